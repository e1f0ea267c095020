namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Base of the tests over a running service: the Api clients of both tenants, and on a failed test
/// the output of every process in the test's output.
/// </summary>
public abstract class EndToEndTest(ServiceProcesses services) : IAsyncDisposable
{
    private readonly List<HttpClient> _clients = [];

    protected ServiceProcesses Services { get; } = services;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Tenant A's Api client (never follows redirects).</summary>
    protected HttpClient ApiA => Track(ref _apiA, () => Services.ApiClient(Services.ApiKeyA));
    private HttpClient? _apiA;

    /// <summary>Tenant B's Api client.</summary>
    protected HttpClient ApiB => Track(ref _apiB, () => Services.ApiClient(Services.ApiKeyB));
    private HttpClient? _apiB;

    /// <summary>A client with no Authorization header: the patient's browser, or an anonymous caller.</summary>
    protected HttpClient Anonymous => Track(ref _anonymous, () => Services.ApiClient(null));
    private HttpClient? _anonymous;

    protected SessionFlow Flow => _flow ??= new SessionFlow(Services, ApiA, Anonymous);
    private SessionFlow? _flow;

    private HttpClient Track(ref HttpClient? field, Func<HttpClient> create)
    {
        if (field is null)
        {
            field = create();
            _clients.Add(field);
        }
        return field;
    }

    /// <summary>A patient id of its own for each test, so tests sharing the service never see each other's data.</summary>
    protected static string NewPatientId(string hint = "p") => $"{hint}-{Guid.NewGuid():N}"[..Math.Min(64, hint.Length + 33)];

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        foreach (var client in _clients) client.Dispose();
        if (TestContext.Current.TestState?.Result is TestResult.Failed)
        {
            TestContext.Current.TestOutputHelper?.WriteLine(Services.AllOutput(maxLinesPerProcess: 150));
        }
        return ValueTask.CompletedTask;
    }
}
