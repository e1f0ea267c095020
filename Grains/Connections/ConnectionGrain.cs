using Microsoft.Extensions.Logging;
using PatientConnect.Connections;
using PatientConnect.Grains.Security;

namespace PatientConnect.Grains.Connections;

[GenerateSerializer, Alias("pc.ConnectionState")]
public sealed class ConnectionState
{
    [Id(0)] public string? TenantId { get; set; }
    [Id(1)] public string? PatientId { get; set; }
    [Id(2)] public string? SourceId { get; set; }
    [Id(3)] public ConnectionStatus Status { get; set; }
    [Id(4)] public string? FailureCode { get; set; }
    [Id(5)] public string? FailureDescription { get; set; }
    [Id(6)] public List<string> Scopes { get; set; } = [];
    [Id(7)] public string? FhirPatientId { get; set; }
    [Id(8)] public DateTimeOffset? ConnectedAt { get; set; }
    [Id(9)] public DateTimeOffset? LastRefreshedAt { get; set; }
    [Id(10)] public DateTimeOffset? AccessExpiresAt { get; set; }
    /// <summary>AES-256-GCM (see TokenProtector), bound to this connection id; never plaintext.</summary>
    [Id(11)] public string? AccessTokenProtected { get; set; }
    [Id(12)] public string? RefreshTokenProtected { get; set; }
    [Id(13)] public DateTimeOffset CreatedAt { get; set; }
    [Id(14)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(15)] public SyncStatus SyncStatus { get; set; }
    [Id(16)] public long SyncResourcesFetched { get; set; }
    [Id(17)] public DateTimeOffset? SyncStartedAt { get; set; }
    [Id(18)] public DateTimeOffset? SyncCompletedAt { get; set; }
    [Id(19)] public string? SyncError { get; set; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Exists => TenantId is not null;
}

/// <summary>One patient's link to one source. Tokens are encrypted before they reach the state.</summary>
public sealed class ConnectionGrain(
    [PersistentState("connection", "store")] IPersistentState<ConnectionState> state,
    TokenProtector protector,
    TimeProvider timeProvider,
    ILogger<ConnectionGrain> logger) : Grain, IConnectionGrain
{
    private string Id => this.GetPrimaryKeyString();

    public async Task<ConnectionView> Activate(ConnectionBinding binding, TokenGrant grant)
    {
        Bind(binding);
        var now = timeProvider.GetUtcNow();
        var s = state.State;
        // A reconnect lands here too: same id, new tokens, back to active, old failure cleared.
        s.Status = ConnectionStatus.Active;
        s.FailureCode = null;
        s.FailureDescription = null;
        s.Scopes = [.. grant.Scopes];
        s.FhirPatientId = grant.FhirPatientId;
        s.ConnectedAt = now;
        s.AccessExpiresAt = grant.AccessExpiresAt;
        s.AccessTokenProtected = protector.Protect(grant.AccessToken, TokenContext("access"));
        s.RefreshTokenProtected = grant.RefreshToken is null ? null : protector.Protect(grant.RefreshToken, TokenContext("refresh"));
        s.UpdatedAt = now;
        await state.WriteStateAsync();
        logger.LogInformation("Connection {ConnectionId} active with {ScopeCount} scopes", Id, s.Scopes.Count);
        return View();
    }

    public async Task<ConnectionView> Fail(ConnectionBinding binding, string failureCode, string failureDescription)
    {
        Bind(binding);
        var now = timeProvider.GetUtcNow();
        var s = state.State;
        s.Status = ConnectionStatus.Failed;
        s.FailureCode = failureCode;
        s.FailureDescription = failureDescription;
        // A failed connection moves no records; keeping tokens it will not use only widens exposure.
        s.AccessTokenProtected = null;
        s.RefreshTokenProtected = null;
        s.AccessExpiresAt = null;
        s.UpdatedAt = now;
        await state.WriteStateAsync();
        logger.LogInformation("Connection {ConnectionId} failed: {FailureCode}", Id, failureCode);
        return View();
    }

    public Task<ConnectionView?> Get(string tenantId) =>
        Task.FromResult(state.State.Exists && state.State.TenantId == tenantId ? View() : null);

    // Placeholders until the token lifecycle work (issue 6) lands; each throws so nothing pretends to work.
    public Task<AccessLease?> GetAccess() => throw new NotSupportedException("GetAccess is not implemented yet.");

    public Task<AccessLease?> RefreshAfterRejected(string rejectedAccessToken) => throw new NotSupportedException("RefreshAfterRejected is not implemented yet.");

    public Task<ConnectionView?> Disconnect(string tenantId, bool deleteRecords) => throw new NotSupportedException("Disconnect is not implemented yet.");

    public Task<ConnectionView?> RequestSync(string tenantId) => throw new NotSupportedException("RequestSync is not implemented yet.");

    public Task ReportSync(SyncView sync) => throw new NotSupportedException("ReportSync is not implemented yet.");

    /// <summary>The owner is fixed at first use; a different owner means a caller bug, never a takeover.</summary>
    private void Bind(ConnectionBinding binding)
    {
        var s = state.State;
        if (!s.Exists)
        {
            s.TenantId = binding.TenantId;
            s.PatientId = binding.PatientId;
            s.SourceId = binding.SourceId;
            s.CreatedAt = timeProvider.GetUtcNow();
            s.SyncStatus = SyncStatus.Pending;
            return;
        }
        if (s.TenantId != binding.TenantId || s.PatientId != binding.PatientId || s.SourceId != binding.SourceId)
        {
            throw new InvalidOperationException($"Connection {Id} belongs to another patient or source.");
        }
    }

    private string TokenContext(string field) => $"{Id}/{field}";

    private ConnectionView View()
    {
        var s = state.State;
        return new ConnectionView(
            Id,
            s.PatientId!,
            s.SourceId!,
            s.Status,
            s.FailureCode,
            s.FailureDescription,
            s.Scopes.ToArray(),
            s.FhirPatientId,
            s.ConnectedAt,
            s.LastRefreshedAt,
            s.AccessExpiresAt,
            new SyncView(s.SyncStatus, s.SyncResourcesFetched, s.SyncStartedAt, s.SyncCompletedAt, s.SyncError),
            s.CreatedAt,
            s.UpdatedAt);
    }
}
