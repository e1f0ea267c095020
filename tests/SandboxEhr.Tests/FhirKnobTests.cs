using System.Diagnostics;
using System.Net;

namespace SandboxEhr.Tests;

/// <summary>Each PUT /hospitals/{id}/settings knob observably changes the FHIR API (own sandbox process).</summary>
public sealed class FhirKnobTests(SmallSandbox sandbox) : IClassFixture<SmallSandbox>, IAsyncLifetime
{
    private const string Hospital = "lakeside";
    private TokenResponse _token = null!;

    public async ValueTask InitializeAsync()
    {
        await sandbox.ResetSettingsAsync(Hospital);
        _token = await sandbox.ConnectAsync(Hospital);
    }

    public async ValueTask DisposeAsync() => await sandbox.ResetSettingsAsync(Hospital);

    private string Url => $"{sandbox.FhirBase(Hospital)}/Observation?patient={_token.Patient}&_count=5";

    [Fact]
    public async Task Latency_ms_delays_every_fhir_answer()
    {
        await sandbox.Fhir(Url, _token.AccessToken);
        var quick = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Fhir(Url, _token.AccessToken)).Status);
        quick.Stop();

        await sandbox.SetSettingsAsync(Hospital, new { latency_ms = 600 });
        var slow = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Fhir(Url, _token.AccessToken)).Status);
        slow.Stop();
        Assert.True(slow.ElapsedMilliseconds >= 580, $"took {slow.ElapsedMilliseconds} ms with latency_ms=600");
        Assert.True(slow.ElapsedMilliseconds > quick.ElapsedMilliseconds + 400,
            $"{slow.ElapsedMilliseconds} ms vs {quick.ElapsedMilliseconds} ms without latency");
    }

    [Fact]
    public async Task Error_rate_answers_5xx()
    {
        await sandbox.SetSettingsAsync(Hospital, new { error_rate = 1.0 });
        for (var i = 0; i < 6; i++)
        {
            var answer = await sandbox.Fhir(Url, _token.AccessToken);
            Assert.True(answer.Status is HttpStatusCode.InternalServerError or HttpStatusCode.ServiceUnavailable, $"got {answer.Status}");
            Assert.Equal("OperationOutcome", answer.Json.GetProperty("resourceType").GetString());
        }

        await sandbox.SetSettingsAsync(Hospital, new { error_rate = 0.5 });
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
            statuses.Add((await sandbox.Fhir(Url, _token.AccessToken)).Status);
        // With p = 0.5 over 40 requests, all-or-nothing has odds of 2 in 10^12.
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.Contains(statuses, s => (int)s >= 500);

        await sandbox.SetSettingsAsync(Hospital, new { error_rate = 0.0 });
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Fhir(Url, _token.AccessToken)).Status);
    }

    [Fact]
    public async Task Rate_limit_every_n_answers_429_with_retry_after()
    {
        await sandbox.SetSettingsAsync(Hospital, new { rate_limit_every_n = 3 });
        var limited = 0;
        for (var i = 0; i < 9; i++)
        {
            var answer = await sandbox.Fhir(Url, _token.AccessToken);
            if (answer.Status == HttpStatusCode.TooManyRequests)
            {
                limited++;
                Assert.Equal(TimeSpan.FromSeconds(1), answer.Response.Headers.RetryAfter?.Delta);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, answer.Status);
            }
        }
        Assert.Equal(3, limited);

        await sandbox.SetSettingsAsync(Hospital, new { rate_limit_every_n = 0 });
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.OK, (await sandbox.Fhir(Url, _token.AccessToken)).Status);
    }

    [Fact]
    public async Task Page_size_sets_the_default_and_the_maximum_page()
    {
        var url = $"{sandbox.FhirBase(Hospital)}/Observation?patient={_token.Patient}";
        var before = await sandbox.FhirOk(url + "&_count=30", _token.AccessToken);
        Assert.Equal(Math.Min(30, before.GetProperty("total").GetInt32()), before.GetProperty("entry").GetArrayLength());

        await sandbox.SetSettingsAsync(Hospital, new { page_size = 7 });
        var capped = await sandbox.FhirOk(url + "&_count=30", _token.AccessToken);
        Assert.Equal(7, capped.GetProperty("entry").GetArrayLength());
        var walk = await sandbox.SearchAll(url, _token.AccessToken);
        Assert.Equal(walk.Total, walk.Matches.Select(FhirTestSupport.ResourceKey).Distinct().Count());
        Assert.Equal((walk.Total + 6) / 7, walk.Pages);
    }
}
