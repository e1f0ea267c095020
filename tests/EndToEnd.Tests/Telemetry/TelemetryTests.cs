using System.Net;
using System.Text.Json.Nodes;
using System.Web;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Sync;

namespace PatientConnect.EndToEnd.Tests.Telemetry;

/// <summary>
/// Traces and product metrics of real processes: the Api and two silos export spans over OTLP to a
/// collector of the test's own, and serve Prometheus text on /metrics (each silo on its own port).
/// </summary>
public sealed class TelemetryTests(TelemetryServices services) : EndToEndTest(services), IClassFixture<TelemetryServices>
{
    private const int SpanKindServer = 2;
    private const int SpanKindClient = 3;
    private new TelemetryServices Services => (TelemetryServices)base.Services;

    [Fact]
    public async Task One_trace_links_the_callback_grain_calls_token_call_fhir_fetches_and_postgres_writes()
    {
        var patient = await SyncSupport.SmallestPatientAsync(Services, "riverside", 5, 300);
        var session = await Flow.CreateSessionAsync(NewPatientId("otel"), await Flow.SourceIdAsync("riverside"));
        var authorize = await Flow.OpenDirectAsync(session["url"]!.GetValue<string>());
        var callback = await Flow.ConsentAsync(authorize, $"approve; patient={patient.Id}");
        var callbackQuery = HttpUtility.ParseQueryString(callback.Query);
        string code = callbackQuery["code"]!, state = callbackQuery["state"]!;
        // The browser's request carries a trace id of the test's own, so the trace looked at below is this
        // callback's and not another flow's of the same fixture (ASP.NET Core continues a W3C traceparent).
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, callback);
        request.Headers.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await Anonymous.SendAsync(request, Cancel);
        var returned = await Flow.ReturnParametersAsync(response);
        Assert.Equal("true", returned["success"]);
        var connection = await SyncSupport.WaitForSyncAsync(ApiA, returned["connection_id"]!);
        Assert.Equal("completed", connection["sync"].Str("status"));

        // The callback request is the root: its trace must reach every hop of the connect and the sync.
        IReadOnlyList<ReceivedSpan> trace = [];
        ReceivedSpan? root = null;
        string missing = "the callback's server span";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var spans = Services.Otlp.Spans;
            root = spans.FirstOrDefault(s => s.Service == "patientconnect-api" && s.Kind == SpanKindServer
                && s.Attr("url.path") == "/oauth/callback" && s.Attr("url.query")?.Contains(state, StringComparison.Ordinal) != true
                && s.TraceId == traceId
                && spans.Any(o => o.TraceId == s.TraceId && o.Attr("url.full")?.Contains("/auth/token", StringComparison.Ordinal) == true));
            if (root is not null)
            {
                trace = spans.Where(s => s.TraceId == root.TraceId).ToList();
                missing = Missing(trace);
                if (missing.Length == 0) break;
            }
            await Task.Delay(250, Cancel);
        }
        Assert.True(root is not null && missing.Length == 0,
            $"missing from the trace: {missing}\n{string.Join("\n", trace.Select(s => s.ToString()))}");

        var byId = trace.ToDictionary(s => s.SpanId);
        foreach (var span in trace)
        {
            // Linked, not merely sharing an id: every span's parents lead back to the callback request.
            var hop = span;
            var hops = 0;
            while (hop.SpanId != root!.SpanId && hops++ < 100)
            {
                Assert.True(byId.TryGetValue(hop.ParentSpanId, out var parent), $"{hop} has no parent in the trace");
                hop = parent;
            }
            Assert.Equal(root.SpanId, hop.SpanId);
        }

        Assert.Contains(trace, s => s.Service == "patientconnect-silo");

        // JSON logs: a silo's line about this session carries its id and the trace id in its scopes.
        var sessionId = session.Str("id")!;
        var silos = string.Concat(Enumerable.Range(0, Services.SiloCount).Select(i => Services.Silo(i).Output()));
        var logLines = silos.Split('\n').Where(l => l.Contains(" | ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(" | ", StringComparison.Ordinal) + 3)..])
            .Where(l => l.StartsWith('{') && l.Contains(sessionId, StringComparison.Ordinal)).ToList();
        Assert.Contains(logLines, l =>
        {
            var json = JsonNode.Parse(l)!;
            var scopes = json["Scopes"]?.AsArray() ?? [];
            return scopes.Any(s => s?["patient_session_id"]?.GetValue<string>() == sessionId)
                && scopes.Any(s => s?["TraceId"]?.GetValue<string>() == root!.TraceId);
        });
        // And the Api's lines within a tenant's request carry the tenant id.
        var apiLines = Services.AllOutput(maxLinesPerProcess: 4000).Split('\n')
            .Where(l => l.StartsWith("api | {", StringComparison.Ordinal)).Select(l => l["api | ".Length..]).ToList();
        Assert.Contains(apiLines, l => (JsonNode.Parse(l)!["Scopes"]?.AsArray() ?? [])
            .Any(s => s?["tenant_id"]?.GetValue<string>() == ServiceProcesses.TenantA));
        var allOutput = Services.AllOutput(maxLinesPerProcess: 4000);
        Assert.DoesNotContain(code, allOutput, StringComparison.Ordinal);
        // Never a secret in telemetry: the one-time code and the state are redacted from the callback's URL.
        foreach (var span in Services.Otlp.Spans)
        {
            foreach (var (key, value) in span.Attributes)
            {
                Assert.False(value.Contains(code, StringComparison.Ordinal) || value.Contains(state, StringComparison.Ordinal),
                    $"{span} attribute {key} carries the OAuth code or state: {value}");
            }
        }
    }

    private static string Missing(IReadOnlyList<ReceivedSpan> trace)
    {
        var wanted = new (string What, Func<ReceivedSpan, bool> Match)[]
        {
            ("an Orleans grain call on a silo", s => s.Scope == "Microsoft.Orleans.Application" && s.Service == "patientconnect-silo"),
            ("the Api's outgoing grain call", s => s.Scope == "Microsoft.Orleans.Application" && s.Service == "patientconnect-api"),
            ("the token call to the sandbox", s => s.Kind == SpanKindClient && s.Attr("http.request.method") == "POST"
                && s.Attr("url.full")?.Contains("/auth/token", StringComparison.Ordinal) == true),
            ("the sync run", s => s.Scope == "PatientConnect" && s.Name.StartsWith("sync ", StringComparison.Ordinal)),
            ("a FHIR page fetch", s => s.Kind == SpanKindClient && s.Attr("http.request.method") == "GET"
                && s.Attr("url.full")?.Contains("/hospitals/riverside/fhir/", StringComparison.Ordinal) == true
                && !s.Attr("url.full")!.Contains("metadata", StringComparison.Ordinal)
                && !s.Attr("url.full")!.Contains(".well-known", StringComparison.Ordinal)),
            ("a Postgres write of records", s => s.Scope == "Npgsql"
                && s.Attributes.Values.Any(v => v.Contains("INSERT INTO pc_records", StringComparison.Ordinal))),
            ("a Postgres write of grain state", s => s.Scope == "Npgsql"
                && s.Attributes.Values.Any(v => v.Contains("WriteToStorage", StringComparison.OrdinalIgnoreCase))),
        };
        return string.Join(", ", wanted.Where(w => !trace.Any(w.Match)).Select(w => w.What));
    }

    [Fact]
    public async Task Product_metrics_on_every_silo_count_sessions_connects_syncs_and_records()
    {
        var before = await ScrapeSilosAsync();
        var riverside = await Flow.SourceIdAsync("riverside");
        var patients = (await SyncSupport.SandboxPatientsAsync(Services, "riverside"))
            .Where(p => p.Total is >= 5 and <= 300).OrderBy(p => p.Total).Take(2).ToList();
        Assert.Equal(2, patients.Count);

        var connections = new List<string>();
        foreach (var patient in patients)
        {
            connections.Add(await SyncSupport.ConnectAsync(Flow, NewPatientId("metrics"), "riverside", patient.Id));
        }
        var (_, denied) = await Flow.ConnectAsync(NewPatientId("metrics"), "lakeside", "deny");
        Assert.Equal("access_denied", denied["error"]);
        long fetched = 0;
        foreach (var id in connections)
        {
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, id);
            Assert.Equal("completed", connection["sync"].Str("status"));
            fetched += connection["sync"]!["resources_fetched"]!.GetValue<long>();
        }
        Assert.NotEmpty(riverside);

        // Syncs report before their last line of work ends; the counters follow within moments.
        IReadOnlyList<PrometheusText> after = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        do
        {
            after = await ScrapeSilosAsync();
            if (Delta("patientconnect_syncs_total", ("vendor", "epic"), ("result", "completed")) >= 2) break;
            await Task.Delay(250, Cancel);
        }
        while (DateTime.UtcNow < deadline);

        double Delta(string name, params (string, string)[] labels) =>
            PrometheusText.Sum(after, name, labels) - PrometheusText.Sum(before, name, labels);

        Assert.Equal(3, Delta("patientconnect_sessions_created_total"));
        Assert.Equal(2, Delta("patientconnect_connect_attempts_total", ("vendor", "epic"), ("result", "success")));
        Assert.Equal(1, Delta("patientconnect_connect_attempts_total", ("vendor", "cerner"), ("result", "access_denied")));
        Assert.Equal(3, Delta("patientconnect_connect_attempts_total"));
        Assert.Equal(2, Delta("patientconnect_sessions_completed_total", ("outcome", "success")));
        Assert.Equal(1, Delta("patientconnect_sessions_completed_total", ("outcome", "access_denied")));
        Assert.Equal(2, Delta("patientconnect_connection_status_changes_total", ("status", "active")));
        Assert.Equal(2, Delta("patientconnect_syncs_total", ("vendor", "epic"), ("result", "completed")));
        Assert.Equal(0, Delta("patientconnect_syncs_total", ("result", "failed")));
        Assert.Equal(2, Delta("patientconnect_sync_duration_seconds_count", ("vendor", "epic"), ("result", "completed")));
        Assert.Equal(fetched, Delta("patientconnect_sync_resources_total", ("vendor", "epic")));
        Assert.Equal(fetched, Delta("patientconnect_records_stored_total"));
        foreach (var scrape in after)
        {
            // Measured by each silo's webhook dispatcher from the shared outbox.
            Assert.True(scrape.Has("patientconnect_webhook_outbox_oldest_age_seconds"), scrape.Text);
        }

        // The Api's own scrape endpoint: HTTP server and Orleans client metrics.
        using var api = await Anonymous.GetAsync("metrics", Cancel);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        var apiText = new PrometheusText(await api.Content.ReadAsStringAsync(Cancel));
        Assert.True(apiText.Sum("http_server_request_duration_seconds_count", ("http_route", "/oauth/callback")) >= 3, apiText.Text);
    }

    private async Task<IReadOnlyList<PrometheusText>> ScrapeSilosAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var scrapes = new List<PrometheusText>();
        for (var i = 0; i < Services.SiloCount; i++)
        {
            using var response = await http.GetAsync(new Uri(Services.SiloHttpBase(i), "metrics"), Cancel);
            var text = await response.Content.ReadAsStringAsync(Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"silo{i} /metrics: {(int)response.StatusCode} {text}");
            scrapes.Add(new PrometheusText(text));
        }
        return scrapes;
    }
}
