using System.Text;
using Microsoft.Extensions.Options;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Sync;

namespace PatientConnect.Grains.Tests;

/// <summary>The whole chart's selection: operator allow/deny per vendor, the CapabilityStatement, the granted scopes, the scopes asked for.</summary>
public sealed class CompartmentTypeTests
{
    private static CompartmentTypeSelector Selector(CompartmentTypeOptions options) => new(new StaticOptions(options));

    private static SourceCapabilities Capabilities(params (string Type, string Parameter)[] types) => SourceCapabilities.Parse(Encoding.UTF8.GetBytes(
        $$"""{"resourceType":"CapabilityStatement","rest":[{"mode":"server","resource":[{{string.Join(",", types.Select(t =>
            $$"""{"type":"{{t.Type}}","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[{"name":"{{t.Parameter}}","type":"reference"}]}"""))}}]}]}"""));

    [Fact]
    public void Extra_types_are_the_patient_compartment_beyond_us_core_less_what_the_operator_denies()
    {
        var all = Selector(new CompartmentTypeOptions()).ExtraTypes("epic");
        Assert.Contains("Claim", all);
        Assert.Contains("ImagingStudy", all);
        Assert.DoesNotContain("Observation", all);
        Assert.DoesNotContain("Patient", all);

        var options = new CompartmentTypeOptions { Deny = ["Claim"] };
        options.Vendors["epic"] = new VendorCompartmentTypes { Allow = ["ImagingStudy", "ServiceRequest", "Claim"], Deny = ["ServiceRequest"] };
        var selector = Selector(options);
        Assert.Equal(["ImagingStudy"], selector.ExtraTypes("epic"));
        var cerner = selector.ExtraTypes("cerner");
        Assert.DoesNotContain("Claim", cerner);
        Assert.Contains("ServiceRequest", cerner);
    }

    [Fact]
    public void A_sync_searches_only_what_the_statement_declares_by_patient_and_the_scopes_grant()
    {
        var selector = Selector(new CompartmentTypeOptions());
        var capabilities = Capabilities(("Claim", "patient"), ("ImagingStudy", "subject"), ("Specimen", "type"), ("ServiceRequest", "patient"));
        var scopes = new GrantedScopes(["patient/Claim.rs", "patient/ImagingStudy.read", "patient/Specimen.rs"]);
        // ServiceRequest is not granted; Specimen has no patient search parameter.
        Assert.Equal(["Claim", "ImagingStudy"], selector.SearchTypes("community", capabilities, scopes));
        // An unreadable statement declares nothing: only US Core is tried.
        Assert.Empty(selector.SearchTypes("community", SourceCapabilities.Unknown, scopes));
    }

    [Fact]
    public void Extra_scopes_are_asked_only_where_the_server_lists_them()
    {
        SmartConfiguration Config(IReadOnlyList<string>? supported) =>
            new("https://ehr.test/fhir", null, "https://ehr.test/auth", "https://ehr.test/token", null, null, supported, ["permission-v2"]);
        var listed = SmartScopes.Choose(Config(["patient/Claim.rs", "patient/ImagingStudy.rs", "patient/Observation.rs", "openid"]),
            ["Claim", "ServiceRequest", "ImagingStudy"]);
        Assert.Contains("patient/Claim.rs", listed);
        Assert.Contains("patient/ImagingStudy.rs", listed);
        Assert.DoesNotContain("patient/ServiceRequest.rs", listed);
        Assert.Equal(listed.Count, listed.Distinct().Count());
        // A server that lists no scopes gets none beyond US Core.
        Assert.DoesNotContain(SmartScopes.Choose(Config(null), ["Claim"]), s => s.StartsWith("patient/Claim", StringComparison.Ordinal));
    }

    private sealed class StaticOptions(CompartmentTypeOptions value) : IOptionsMonitor<CompartmentTypeOptions>
    {
        public CompartmentTypeOptions CurrentValue => value;
        public CompartmentTypeOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<CompartmentTypeOptions, string?> listener) => null;
    }
}
