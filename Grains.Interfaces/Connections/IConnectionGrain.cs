namespace PatientConnect.Connections;

/// <summary>One patient's authorized link to one source, keyed by its conn_ id.</summary>
[Alias("pc.IConnectionGrain")]
public interface IConnectionGrain : IGrainWithStringKey
{
    /// <summary>Stores the new tokens (encrypted) and sets the connection active; reconnects in place.</summary>
    [Alias("Activate")] Task<ConnectionView> Activate(ConnectionBinding binding, TokenGrant grant);

    /// <summary>Records a failed attempt after approval (token endpoint or EHR error).</summary>
    [Alias("Fail")] Task<ConnectionView> Fail(ConnectionBinding binding, string failureCode, string failureDescription);

    /// <summary>The connection, or null when it does not exist or belongs to another tenant.</summary>
    [ReadOnly, Alias("Get")] Task<ConnectionView?> Get(string tenantId);
}
