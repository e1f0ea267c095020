using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.BadInput;

/// <summary>
/// Generated bad input across every route: no answer is a 5xx, every error of the API is problem+json
/// with a stable code (the patient's pages answer HTML), a request wrong in one field names it, and
/// nothing is written for any of them (row counts of every table unchanged).
/// </summary>
public sealed partial class BadInputTests(BadInputServices services) : EndToEndTest(services), IClassFixture<BadInputServices>
{
    private const int RequestCount = 10_500;
    private const string TypeBase = "https://patientconnect.dev/problems/";

    private static readonly HashSet<string> StableCodes =
    [
        "validation_error", "malformed_json", "unsupported_media_type", "payload_too_large", "not_found", "unauthorized",
        "bad_request", "method_not_allowed",
    ];

    [Fact]
    public async Task Ten_thousand_bad_requests_answer_4xx_problems_and_write_nothing()
    {
        var requests = BadRequests.Generate(RequestCount, seed: 12);
        var before = await services.RowCountsAsync();
        var statesBefore = await services.GrainStateRowsAsync();

        using var http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxConnectionsPerServer = 16,
            // Header values outside ASCII are sent as UTF-8 bytes, as a careless client would.
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        })
        {
            BaseAddress = Services.ApiBase,
            Timeout = TimeSpan.FromSeconds(60),
        };

        var failures = new ConcurrentQueue<string>();
        var perKind = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var perStatus = new ConcurrentDictionary<int, int>();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Cancel }, async (bad, ct) =>
        {
            perKind.AddOrUpdate(bad.Kind, 1, (_, n) => n + 1);
            using var message = Build(bad);
            using var response = await http.SendAsync(message, ct);
            var status = (int)response.StatusCode;
            perStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (Check(bad, response, status, body) is { } why && failures.Count < 50)
            {
                failures.Enqueue($"{bad.Kind} {bad.Method} /{Shorten(bad.Path)} body={Shorten(BodyText(bad))}: {why} (answer {status}: {Shorten(body)})");
            }
        });
        watch.Stop();

        var after = await services.RowCountsAsync();
        var statesAfter = await services.GrainStateRowsAsync();
        statesAfter.ExceptWith(statesBefore);
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{requests.Count} requests in {watch.Elapsed.TotalSeconds:0.0} s ({requests.Count / watch.Elapsed.TotalSeconds:0} per s)");
        output?.WriteLine("by kind: " + string.Join(", ", perKind.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));
        output?.WriteLine("by status: " + string.Join(", ", perStatus.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));

        foreach (var failure in failures) output?.WriteLine(failure);

        Assert.True(requests.Count >= 10_000);
        Assert.Empty(failures);
        Assert.Equal(0, perStatus.Where(s => s.Key >= 500).Sum(s => s.Value));
        // Each kind of request the probes found answering 500 or wrongly accepted is among them.
        foreach (var kind in new[] { "invalid_utf8_in_body", "unpaired_surrogate", "control_in_url", "control_in_id", "webhook_internal_address",
                     "nul_in_path", "empty_body", "webhooks_list_bad_limit", "bad_id", "bad_query", "bad_idempotency_key", "unknown_api_key",
                     "oauth_callback", "connect_page", "malformed_json" })
        {
            Assert.True(perKind.ContainsKey(kind), $"no request of kind {kind}");
        }
        Assert.True(statesAfter.Count == 0, "grain state written: " + string.Join("; ", statesAfter.Take(20)));
        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData("https://127.0.0.1/hooks")]
    [InlineData("http://127.0.0.1:9/hooks")]
    [InlineData("https://localhost/hooks")]
    [InlineData("https://[::1]/hooks")]
    [InlineData("https://2130706433/hooks")]
    public async Task Loopback_webhook_urls_are_refused_in_production_configuration(string url)
    {
        using var response = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url }, Cancel);
        var problem = await Json.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("url", problem.Str("field"));
        Assert.Contains("loopback", problem.Str("detail"));
    }

    [Fact]
    public async Task Requests_kestrel_refuses_before_routing_answer_problem_json()
    {
        string[] raw =
        [
            "GET /v1/patient-sessions/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /connect/ps_%00abc HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v1/sources HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
            "GET /v1/sources HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /\u0001 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "POST /v1/patient-sessions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            "POST /v1/patient-sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        ];
        foreach (var request in raw)
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Services.ApiBase.Port, Cancel);
            await using var stream = client.GetStream();
            await stream.WriteAsync(Encoding.Latin1.GetBytes(request), Cancel);
            var answer = await ReadAnswerAsync(stream).WaitAsync(TimeSpan.FromSeconds(10), Cancel);
            var shown = request.Replace("\r\n", "\\r\\n").Replace("\u0001", "\\x01");
            Assert.True(Regex.IsMatch(answer, @"^HTTP/1\.1 4\d\d "), $"{shown} → {answer}");
            Assert.True(answer.Contains("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase), $"{shown} → {answer}");
            var json = JsonDocument.Parse(answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]).RootElement;
            Assert.True(StableCodes.Contains(json.GetProperty("code").GetString()!), shown);
            Assert.StartsWith(TypeBase, json.GetProperty("type").GetString());
        }
    }

    /// <summary>One HTTP/1.1 answer: the head, then as many body bytes as Content-Length says.</summary>
    private static async Task<string> ReadAnswerAsync(Stream stream)
    {
        var bytes = new List<byte>();
        var buffer = new byte[4096];
        int headEnd = -1, length = 0;
        var chunked = false;
        while (true)
        {
            var read = await stream.ReadAsync(buffer, Cancel);
            if (read == 0) break;
            bytes.AddRange(buffer.AsSpan(0, read));
            var text = Encoding.UTF8.GetString(bytes.ToArray());
            if (headEnd < 0 && (headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
            {
                var match = Regex.Match(text[..headEnd], @"(?im)^Content-Length: *(\d+)");
                length = match.Success ? int.Parse(match.Groups[1].Value) : 0;
                chunked = Regex.IsMatch(text[..headEnd], @"(?im)^Transfer-Encoding: *chunked");
            }
            if (headEnd >= 0 && (chunked ? text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal) : bytes.Count >= headEnd + 4 + length)) break;
        }
        var answer = Encoding.UTF8.GetString(bytes.ToArray());
        if (!chunked) return answer;
        // Chunk sizes and their line ends dropped: the head and the body's data.
        var body = new StringBuilder();
        var at = headEnd + 4;
        while (true)
        {
            var lineEnd = answer.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(answer[at..lineEnd], 16);
            if (size == 0) break;
            body.Append(answer, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        return answer[..(headEnd + 4)] + body;
    }

    private HttpRequestMessage Build(BadRequest bad)
    {
        var message = new HttpRequestMessage(bad.Method, bad.Path);
        if (bad.Body is not null)
        {
            message.Content = new ByteArrayContent(bad.Body);
            if (bad.ContentType is not null) message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(bad.ContentType);
        }
        switch (bad.Key)
        {
            case "a": message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Services.ApiKeyA); break;
            case "none": break;
            default: message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bad.Key); break;
        }
        foreach (var (name, value) in bad.Headers ?? [])
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    /// <summary>Null when the answer is what a bad request must get; otherwise what is wrong with it.</summary>
    private static string? Check(BadRequest bad, HttpResponseMessage response, int status, string body)
    {
        if (status is < 400 or >= 500) return $"status {status}, expected a 4xx";
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        // Kestrel refuses a NUL in the path before any route sees it: a bare 400 problem, no field, no page.
        var refusedByServer = bad.Path.Split('?')[0].Contains("%00", StringComparison.Ordinal);
        if (refusedByServer) bad = bad with { Field = null, PatientPage = false };
        if (bad.PatientPage) return mediaType == "text/html" ? null : $"patient page answered {mediaType}";
        if (mediaType != "application/problem+json") return $"content type {mediaType}";
        JsonElement problem;
        try
        {
            problem = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException e)
        {
            return "problem is not JSON: " + e.Message;
        }
        var code = problem.TryGetProperty("code", out var c) ? c.GetString() : null;
        if (code is null || !StableCodes.Contains(code)) return $"code {code ?? "(none)"} is not a stable code";
        if (!(problem.TryGetProperty("type", out var type) && type.GetString() is { } t && t.StartsWith(TypeBase, StringComparison.Ordinal)))
            return "type missing";
        if (!problem.TryGetProperty("status", out var s) || s.GetInt32() != status) return "status member differs";
        if (bad.Field is not null && status == 400)
        {
            var named = problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(bad.Field, out _);
            if (!named) return $"400 does not name {bad.Field}";
        }
        else if (bad.Field is not null && status != 404)
        {
            return $"status {status}, expected 400 naming {bad.Field}";
        }
        return null;
    }

    private static string BodyText(BadRequest bad) => bad.Body is null ? "" : Encoding.UTF8.GetString(bad.Body);

    private static string Shorten(string text) => ControlChars().Replace(text.Length <= 160 ? text : text[..160] + "…", "?");

    [GeneratedRegex(@"\p{C}")]
    private static partial Regex ControlChars();
}
