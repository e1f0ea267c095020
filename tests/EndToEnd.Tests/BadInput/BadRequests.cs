using System.Text;

namespace PatientConnect.EndToEnd.Tests.BadInput;

/// <summary>One request a careless client or an attacker might send, and what it must come to.</summary>
/// <param name="Kind">What is wrong with it, for the tally.</param>
/// <param name="Field">The field the 400 must name, when the request is wrong in one field.</param>
/// <param name="Key">Which credential it carries: "a" (tenant A's key), "none", or any other text as the bearer.</param>
/// <param name="PatientPage">The patient's browser pages answer HTML, not problem+json.</param>
public sealed record BadRequest(
    string Kind, HttpMethod Method, string Path, byte[]? Body, string? ContentType, string Key,
    string? Field = null, IReadOnlyList<KeyValuePair<string, string>>? Headers = null, bool PatientPage = false);

/// <summary>
/// Generates bad requests across every route: bodies (bad UTF-8, unpaired surrogate escapes, control
/// characters, wrong types, broken JSON, internal webhook addresses), ids, query parameters, headers,
/// and the OAuth callback's state and code. Seeded, so a failure reproduces.
/// </summary>
public static class BadRequests
{
    public const string SessionsPath = "v1/patient-sessions";
    public const string WebhooksPath = "v1/webhook-endpoints";
    private const string ReturnUrl = "http://127.0.0.1:9/back";

    // Byte sequences that are not UTF-8: a lone continuation byte, an overlong NUL, an encoded
    // surrogate, a truncated three-byte sequence, bytes that never occur, a code point above U+10FFFF.
    private static readonly byte[][] BadUtf8 =
    [
        [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xFF], [0xFE, 0xFF], [0xF4, 0x90, 0x80, 0x80], [0xC3],
    ];

    // JSON escapes that parse but are not Unicode text.
    private static readonly string[] UnpairedEscapes =
    [
        @"\ud800", @"\udc00", @"\udbff\u0041", @"\ud800\ud800", @"x\udfff", @"\uD83D", @"\uDE00\uD83D",
    ];

    private static readonly string[] ControlEscapes = [@"\u0000", @"\u0001", @"\n", @"\r", @"\u007f", @"\u0085", @"\t"];

    public static readonly string[] InternalWebhookUrls =
    [
        "https://127.0.0.1/", "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "https://192.168.1.1/",
        "https://172.16.0.1/", "https://0.0.0.0/", "https://[::1]/", "https://[fe80::1]/", "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:10.0.0.1]/", "https://[fc00::1]/", "https://[::]/", "https://localhost/", "https://api.localhost/",
        "https://2130706433/", "https://0x7f000001/", "https://0177.0.0.1/", "https://127.1/", "https://metadata.google.internal/",
        "https://127.0.0.1:5432/", "https://100.64.0.1/", "https://224.0.0.1/", "https://[ff02::1]/", "https://255.255.255.255/",
    ];

    public static List<BadRequest> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var fixedCases = FixedCases().ToList();
        var all = new List<BadRequest>(Math.Max(count, fixedCases.Count));
        all.AddRange(fixedCases);
        var generators = new Func<Random, BadRequest>[]
        {
            SessionBodyWithBadText, SessionBodyWithBadText, WebhookBodyWithBadText, BrokenJson, BadSessionField,
            BadId, BadId, BadQuery, BadQuery, BadHeader, Callback, ConnectPage, BadWebhookUrl,
        };
        while (all.Count < count) all.Add(generators[random.Next(generators.Length)](random));
        return all;
    }

    /// <summary>Each shape from the probes that once answered 500 or was wrongly accepted, once each.</summary>
    private static IEnumerable<BadRequest> FixedCases()
    {
        foreach (var bytes in BadUtf8)
        {
            foreach (var field in new[] { "patient_id", "return_url", "source_id", "metadata" })
                yield return Session("invalid_utf8_in_body", field, InjectBytes(SessionTemplate(field), bytes));
            yield return Webhook("invalid_utf8_in_body", "url", InjectBytes("""{"url":"https://app.example/h@@"}""", bytes));
            yield return Session("invalid_utf8_in_name", "body", InjectBytes("""{"patient_id":"p","return_url":"http://127.0.0.1:9/","x@@":1}""", bytes));
        }
        foreach (var escape in UnpairedEscapes)
        {
            foreach (var field in new[] { "patient_id", "return_url", "source_id", "metadata" })
                yield return Session("unpaired_surrogate", field, Utf8(SessionTemplate(field).Replace("@@", escape)));
            yield return Webhook("unpaired_surrogate", "url", Utf8("""{"url":"https://app.example/h@@"}""".Replace("@@", escape)));
        }
        foreach (var escape in ControlEscapes)
        {
            yield return Session("control_in_url", "return_url", Utf8($$"""{"patient_id":"p1","return_url":"http://127.0.0.1:9/a{{escape}}b"}"""));
            yield return Session("control_in_id", "patient_id", Utf8($$"""{"patient_id":"p{{escape}}1","return_url":"{{ReturnUrl}}"}"""));
            yield return Webhook("control_in_url", "url", Utf8($$"""{"url":"http://127.0.0.1:9/h{{escape}}x"}"""));
        }
        foreach (var url in InternalWebhookUrls)
            yield return Webhook("webhook_internal_address", "url", Utf8($$"""{"url":"{{url}}"}"""));
        yield return new BadRequest("empty_body", HttpMethod.Post, SessionsPath, [], "application/json", "a");
        yield return new BadRequest("empty_body", HttpMethod.Post, WebhooksPath, [], "application/json", "a");
        yield return new BadRequest("empty_body", HttpMethod.Post, SessionsPath, null, null, "a");
        yield return new BadRequest("nul_in_path", HttpMethod.Get, SessionsPath + "/%00", null, null, "a");
        yield return new BadRequest("nul_in_path", HttpMethod.Get, "v1/connections/conn_%00abc", null, null, "a");
        // Kestrel refuses a NUL before routing, so even the patient page's path answers problem+json.
        yield return new BadRequest("nul_in_path", HttpMethod.Get, "connect/ps_%00", null, null, "none");
        yield return new BadRequest("webhooks_list_bad_limit", HttpMethod.Get, WebhooksPath + "?limit=0", null, null, "a", "limit");
        yield return new BadRequest("webhooks_list_bad_cursor", HttpMethod.Get, WebhooksPath + "?cursor=%21%21", null, null, "a", "cursor");
        yield return new BadRequest("wrong_content_type", HttpMethod.Post, SessionsPath, Utf8("patient_id=p"), "application/x-www-form-urlencoded", "a");
        yield return new BadRequest("body_too_large", HttpMethod.Post, SessionsPath,
            Utf8("{\"patient_id\":\"" + new string('x', 70_000) + "\"}"), "application/json", "a");
        yield return new BadRequest("deep_nesting", HttpMethod.Post, SessionsPath,
            Utf8("{\"metadata\":" + new string('[', 200) + new string(']', 200) + "}"), "application/json", "a");
    }

    private static string SessionTemplate(string field) => field switch
    {
        "patient_id" => """{"patient_id":"p@@","return_url":"http://127.0.0.1:9/back"}""",
        "return_url" => """{"patient_id":"p1","return_url":"http://127.0.0.1:9/b@@"}""",
        "source_id" => """{"patient_id":"p1","return_url":"http://127.0.0.1:9/back","source_id":"src_@@"}""",
        "metadata" => """{"patient_id":"p1","return_url":"http://127.0.0.1:9/back","metadata":{"note":"a@@b"}}""",
        "recommended_source_ids" => """{"patient_id":"p1","return_url":"http://127.0.0.1:9/back","recommended_source_ids":["src_@@"]}""",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    private static readonly string[] TextFields = ["patient_id", "return_url", "source_id", "metadata", "recommended_source_ids"];

    private static BadRequest SessionBodyWithBadText(Random random)
    {
        var field = TextFields[random.Next(TextFields.Length)];
        var template = SessionTemplate(field);
        return random.Next(2) == 0
            ? Session("invalid_utf8_in_body", field, InjectBytes(template, BadUtf8[random.Next(BadUtf8.Length)]), random)
            : Session("unpaired_surrogate", field, Utf8(template.Replace("@@", UnpairedEscapes[random.Next(UnpairedEscapes.Length)])), random);
    }

    private static BadRequest WebhookBodyWithBadText(Random random) => random.Next(3) switch
    {
        0 => Webhook("invalid_utf8_in_body", "url", InjectBytes("""{"url":"https://app.example/@@"}""", BadUtf8[random.Next(BadUtf8.Length)]), random),
        1 => Webhook("unpaired_surrogate", "url", Utf8("""{"url":"https://app.example/@@"}""".Replace("@@", UnpairedEscapes[random.Next(UnpairedEscapes.Length)])), random),
        _ => Webhook("control_in_url", "url", Utf8($$"""{"url":"https://app.example/{{ControlEscapes[random.Next(ControlEscapes.Length)]}}"}"""), random),
    };

    private static BadRequest BadWebhookUrl(Random random)
    {
        string[] others = ["not a url", "ftp://app.example/", "http://app.example/hook", "https://user:pw@app.example/", "/relative", "", "javascript:alert(1)"];
        var pool = random.Next(2) == 0 ? InternalWebhookUrls : others;
        var url = pool[random.Next(pool.Length)];
        return Webhook(pool == InternalWebhookUrls ? "webhook_internal_address" : "webhook_bad_url", "url",
            Utf8(System.Text.Json.JsonSerializer.Serialize(new { url })), random);
    }

    private static BadRequest BrokenJson(Random random)
    {
        string[] shapes =
        [
            "{", "}", "[]", "null", "42", "\"text\"", "{\"patient_id\":", "{'patient_id':'p'}", "{\"a\":1,}", "{\"a\" 1}",
            "{\"patient_id\":\"p\"}garbage", "\u00ef\u00bb\u00bf{}", "{\"a\":NaN}", "{\"a\":01}", "{\"a\":\"\t\"}",
        ];
        var path = random.Next(2) == 0 ? SessionsPath : WebhooksPath;
        if (random.Next(4) == 0)
        {
            var bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            return new BadRequest("random_bytes_body", HttpMethod.Post, path, bytes, "application/json", "a");
        }
        return new BadRequest("malformed_json", HttpMethod.Post, path, Utf8(shapes[random.Next(shapes.Length)]), "application/json", "a");
    }

    private static BadRequest BadSessionField(Random random)
    {
        (string Field, string Body)[] cases =
        [
            ("patient_id", """{"return_url":"http://127.0.0.1:9/"}"""),
            ("patient_id", """{"patient_id":"a/b","return_url":"http://127.0.0.1:9/"}"""),
            ("patient_id", """{"patient_id":["p"],"return_url":"http://127.0.0.1:9/"}"""),
            ("return_url", """{"patient_id":"p"}"""),
            ("return_url", """{"patient_id":"p","return_url":"javascript:alert(1)"}"""),
            ("return_url", """{"patient_id":"p","return_url":"http://app.example/"}"""),
            ("expires_in", """{"patient_id":"p","return_url":"http://127.0.0.1:9/","expires_in":1e99}"""),
            ("expires_in", """{"patient_id":"p","return_url":"http://127.0.0.1:9/","expires_in":-1}"""),
            ("metadata", """{"patient_id":"p","return_url":"http://127.0.0.1:9/","metadata":"x"}"""),
            ("recommended_source_ids", """{"patient_id":"p","return_url":"http://127.0.0.1:9/","recommended_source_ids":[1]}"""),
            ("extra", """{"patient_id":"p","return_url":"http://127.0.0.1:9/","extra":true}"""),
            ("patient_id", """{"patient_id":"p","patient_id":"q","return_url":"http://127.0.0.1:9/"}"""),
        ];
        var (field, body) = cases[random.Next(cases.Length)];
        return Session("invalid_field", field, Utf8(body), random);
    }

    private static readonly string[] IdRoutes =
    [
        "GET v1/patient-sessions/{id}", "GET v1/connections/{id}", "DELETE v1/connections/{id}", "POST v1/connections/{id}/sync",
        "GET v1/sources/{id}", "DELETE v1/webhook-endpoints/{id}", "GET v1/webhook-endpoints/{id}/deliveries",
        "GET v1/patients/{id}/patient-sessions", "GET v1/patients/{id}/connections", "GET v1/patients/{id}/records",
        "GET v1/patients/p1/records/Observation/{id}", "GET v1/patients/p1/records/{id}/x1",
    ];

    private static BadRequest BadId(Random random)
    {
        var route = IdRoutes[random.Next(IdRoutes.Length)].Split(' ');
        var id = RandomId(random);
        var field = route[1].StartsWith("v1/patients/{id}", StringComparison.Ordinal) ? "patient_id" : null;
        // A random id may happen to be a well-formed patient id, which is not bad input.
        if (field is not null && System.Text.RegularExpressions.Regex.IsMatch(Uri.UnescapeDataString(id), "^[A-Za-z0-9._-]{1,64}$")) id += "%21";
        return new BadRequest("bad_id", new HttpMethod(route[0]), route[1].Replace("{id}", id), null, null, "a", field);
    }

    private static string RandomId(Random random)
    {
        string[] prefixes = ["ps_", "conn_", "src_", "whe_", "", "evt_", "PS_"];
        return random.Next(8) switch
        {
            0 => prefixes[random.Next(prefixes.Length)] + new string('a', random.Next(0, 40)),
            1 => prefixes[random.Next(prefixes.Length)] + "%" + random.Next(0, 32).ToString("X2"),
            2 => Uri.EscapeDataString(new string((char)random.Next(0x80, 0x2FFF), random.Next(1, 5))),
            3 => "%ED%A0%80" + random.Next(),
            4 => new string('x', random.Next(65, 300)),
            5 => "a%20b%2Fc",
            6 => "%FF%FE",
            _ => prefixes[random.Next(prefixes.Length)] + RandomAscii(random, random.Next(1, 40)),
        };
    }

    private static string RandomAscii(Random random, int length)
    {
        const string chars = "abcdefghijklmnopqrstuvwxyz0123456789-_.~!$&'()*+,;=:@";
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++) text.Append(chars[random.Next(chars.Length)]);
        return Uri.EscapeDataString(text.ToString());
    }

    private static BadRequest BadQuery(Random random)
    {
        (string Path, string Param, string Field)[] routes =
        [
            ("v1/patients/p1/patient-sessions", "limit", "limit"), ("v1/patients/p1/patient-sessions", "status", "status"),
            ("v1/patients/p1/patient-sessions", "cursor", "cursor"), ("v1/patients/p1/connections", "limit", "limit"),
            ("v1/patients/p1/connections", "cursor", "cursor"), ("v1/sources", "limit", "limit"), ("v1/sources", "q", "q"),
            ("v1/sources", "state", "state"), ("v1/sources", "cursor", "cursor"),
            ("v1/patients/p1/records", "since", "since"), ("v1/patients/p1/records", "type", "type"),
            ("v1/patients/p1/records", "connection_id", "connection_id"), ("v1/patients/p1/records", "limit", "limit"),
            ("v1/webhook-endpoints", "limit", "limit"), ("v1/webhook-endpoints", "cursor", "cursor"),
        ];
        var (path, param, field) = routes[random.Next(routes.Length)];
        string[] values = param switch
        {
            "limit" => ["0", "-1", "101", "abc", "1e3", "%00", "2147483648", "%201", "1.5"],
            "status" => ["bogus", "OPEN", "%00", "open%00"],
            "since" => ["yesterday", "2025-13-01", "%00", "2025-01-01T00:00:00"],
            "type" => ["observation", "Obs%00", "1abc", "%FF"],
            "connection_id" => ["conn_x", "%00", "ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
            "cursor" => ["%00", "%01abc", new string('c', 1100)] ,
            _ => ["a%00b", "%01", new string('q', 201), "a%0Ab"],
        };
        // A cursor that decodes to nothing this API issued is refused as "cursor".
        if (param == "cursor" && random.Next(2) == 0) values = ["bm90LWEtY3Vyc29y", "!!!", "o1:-5"];
        var value = values[random.Next(values.Length)];
        return new BadRequest("bad_query", HttpMethod.Get, $"{path}?{param}={value}", null, null, "a", field);
    }

    private static BadRequest BadHeader(Random random)
    {
        var valid = Utf8($$"""{"patient_id":"p1","return_url":"{{ReturnUrl}}","expires_in":59}""");
        switch (random.Next(6))
        {
            case 0:
                return new BadRequest("no_api_key", HttpMethod.Get, "v1/sources", null, null, "none");
            case 1:
                return new BadRequest("unknown_api_key", HttpMethod.Get, "v1/sources", null, null, "pc_random_" + random.Next());
            case 2:
                return new BadRequest("bad_authorization", HttpMethod.Get, "v1/sources", null, null, "none",
                    Headers: [new("Authorization", random.Next(2) == 0 ? "Basic Zm9vOmJhcg==" : "Bearer " + new string('k', 600))]);
            case 3:
                return new BadRequest("bad_idempotency_key", HttpMethod.Post, SessionsPath,
                    Utf8($$"""{"patient_id":"p1","return_url":"{{ReturnUrl}}"}"""), "application/json", "a", "Idempotency-Key",
                    [new("Idempotency-Key", random.Next(2) == 0 ? new string('k', 300) : "ké\u00ff")]);
            case 4:
                return new BadRequest("bad_content_type", HttpMethod.Post, SessionsPath, valid,
                    random.Next(2) == 0 ? "text/plain" : "application/xml", "a");
            default:
                return new BadRequest("bad_accept", HttpMethod.Post, SessionsPath, valid, "application/json", "a", "expires_in",
                    [new("Accept", "application/xml")]);
        }
    }

    private static BadRequest Callback(Random random)
    {
        string[] queries =
        [
            $"state={RandomAscii(random, 43)}&code={RandomAscii(random, 20)}", "state=&code=", "code=abc", "state=abc",
            $"state=%00{random.Next()}&code=x", $"state={RandomAscii(random, 43)}&error=access_denied&error_description=%FF%FE",
            $"state={new string('s', 3000)}&code=c", "state=%ED%A0%80&code=%C0%80", "",
        ];
        return new BadRequest("oauth_callback", HttpMethod.Get, "oauth/callback?" + queries[random.Next(queries.Length)],
            null, null, "none", PatientPage: true);
    }

    private static BadRequest ConnectPage(Random random)
    {
        string[] paths = ["connect/{id}", "connect/{id}/start?source_id=src_x", "connect/{id}/results?q=%00"];
        var path = paths[random.Next(paths.Length)].Replace("{id}", RandomId(random));
        return new BadRequest("connect_page", HttpMethod.Get, path, null, null, "none", PatientPage: true);
    }

    private static BadRequest Session(string kind, string field, byte[] body, Random? random = null) =>
        new(kind, HttpMethod.Post, SessionsPath, body, "application/json", "a", field, IdempotencyHeader(random));

    private static BadRequest Webhook(string kind, string field, byte[] body, Random? random = null) =>
        new(kind, HttpMethod.Post, WebhooksPath, body, "application/json", "a", field, IdempotencyHeader(random));

    // Some refused POSTs carry an Idempotency-Key: a refusal must not claim it for good either.
    private static IReadOnlyList<KeyValuePair<string, string>>? IdempotencyHeader(Random? random) =>
        random is not null && random.Next(4) == 0 ? [new("Idempotency-Key", "bad-input-" + random.Next())] : null;

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] InjectBytes(string template, byte[] bytes)
    {
        var at = template.IndexOf("@@", StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(template[..at]), .. bytes, .. Encoding.UTF8.GetBytes(template[(at + 2)..])];
    }
}
