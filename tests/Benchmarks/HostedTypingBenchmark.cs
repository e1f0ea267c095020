using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace PatientConnect.Benchmarks;

/// <summary>
/// `hosted-typing`: the time a patient waits on the hosted page, in headless Chromium, from the last
/// key of a query to its results on screen (search-as-you-type: the page's debounce, the fetch of
/// /connect/{ps}/results, the silo's search over the shipped snapshot, the rendering, the swap into
/// the page). Starts its own silo and Api with the real snapshot and a client registration for every
/// Epic source, twice: with the production default (only connectable sources shown) and with every
/// source of the directory shown. Timestamps are
/// taken inside the page (keydown, and the mutation that shows the results), so the browser
/// driver's own round trips are not counted.
///
///   hosted-typing [--pg CONNSTR] [--rounds 5] [--key-delay-ms 80]
/// </summary>
public static class HostedTypingBenchmark
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>What patients type: names, portal names, misspellings, one letter, a broad word.</summary>
    public static readonly string[] Queries =
    [
        "riverside", "river", "mayo clinic", "stanferd health", "st", "kaiser perm", "mychart", "medical center",
        "cleveland clinic", "northwell", "childrens hospital", "sutter", "lakeside med",
    ];

    // Installed once per page: remembers when each key went down and when the results region showed
    // the answer for a query (connect.js sets data-query when it swaps the results in).
    private const string Probe = """
        () => {
          window.__keys = [];
          window.__shown = {};
          document.getElementById('q').addEventListener('keydown', () => window.__keys.push(performance.now()), true);
          const region = document.getElementById('results-region');
          new MutationObserver(() => {
            const q = region.getAttribute('data-query');
            if (q !== null && !(q in window.__shown)) window.__shown[q] = { at: performance.now(), items: region.querySelectorAll('a.source').length };
          }).observe(region, { attributes: true, childList: true, subtree: true });
        }
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var pg = Environment.GetEnvironmentVariable("PATIENTCONNECT_PG") is { Length: > 0 } p
            ? p
            : "Host=127.0.0.1;Port=55432;Username=patientconnect;Password=patientconnect;Database=patientconnect";
        int rounds = 5, keyDelay = 80;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--pg" when value is not null: pg = value; i++; break;
                case "--rounds" when int.TryParse(value, out var r) && r is > 0 and <= 100: rounds = r; i++; break;
                case "--key-delay-ms" when int.TryParse(value, out var d) && d is >= 0 and <= 1000: keyDelay = d; i++; break;
                default:
                    Console.Error.WriteLine($"unknown or invalid argument '{args[i]}'");
                    Console.Error.WriteLine("usage: hosted-typing [--pg CONNSTR] [--rounds 1..100] [--key-delay-ms 0..1000]");
                    return 2;
            }
        }
        if (!File.Exists(Chromium))
        {
            Console.Error.WriteLine($"{Chromium} is missing (apt-get install -y chromium)");
            return 1;
        }
        Console.WriteLine($"hosted-typing: {Queries.Length} queries x {rounds} rounds, a key every {keyDelay} ms, {Environment.ProcessorCount} cores; " +
                          "time from the last key to the results on screen");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"],
        });

        var rows = new List<string>();
        var failed = 0;
        foreach (var connectableOnly in new[] { true, false })
        {
            var mode = connectableOnly ? "connectable only (default)" : "whole directory shown";
            // A client registration for every Epic source, as an operator with an Epic app would have:
            // the connectable-only page then searches the whole snapshot and shows its Epic matches.
            await using var service = await DirectoryBenchmark.Service.StartOwnAsync(pg,
                new Dictionary<string, string> { ["PatientConnect__HostedPage__ConnectableOnly"] = connectableOnly ? "true" : "false" },
                new Dictionary<string, string> { ["Directory__Vendors__epic__ClientId"] = "bench-epic-client" });
            if (service is null) return 1;
            var url = await CreateSessionAsync(service.Api, service.Key);

            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            await page.GotoAsync(url);
            await page.EvaluateAsync(Probe);
            var input = page.Locator("#q");

            var samples = new List<double>();
            var perQuery = Queries.ToDictionary(q => q, _ => new List<double>());
            var items = new Dictionary<string, int>();
            var clock = Stopwatch.StartNew();
            // One untimed pass first: JIT, the silo's index pages, the browser's caches.
            for (var round = 0; round <= rounds; round++)
            {
                foreach (var query in Queries)
                {
                    await input.FillAsync("");
                    await page.EvaluateAsync("() => { window.__keys = []; window.__shown = {}; }");
                    await input.PressSequentiallyAsync(query, new() { Delay = keyDelay });
                    try
                    {
                        await page.WaitForFunctionAsync("q => q in window.__shown", query, new() { Timeout = 30_000 });
                    }
                    catch (TimeoutException)
                    {
                        Console.Error.WriteLine($"  {mode}: no results shown for '{query}'");
                        failed++;
                        continue;
                    }
                    var ms = await page.EvaluateAsync<double>("q => window.__shown[q].at - window.__keys[window.__keys.length - 1]", query);
                    items[query] = await page.EvaluateAsync<int>("q => window.__shown[q].items", query);
                    if (round == 0) continue;
                    samples.Add(ms);
                    perQuery[query].Add(ms);
                }
            }
            Console.WriteLine($"  {mode}: {samples.Count} samples in {clock.Elapsed.TotalSeconds:0.0} s");
            foreach (var (query, times) in perQuery)
            {
                rows.Add($"  {mode,-28} {Quote(query),-22} {items.GetValueOrDefault(query),6} {Percentile(times, 50),8:0.0} {Percentile(times, 99),8:0.0}");
            }
            rows.Add($"{"all queries, " + mode,-53} {Percentile(samples, 50),8:0.0} {Percentile(samples, 99),8:0.0}");
        }

        Console.WriteLine();
        Console.WriteLine($"{"time from last key to results (ms)",-30} {"query",-22} {"shown",6} {"p50",8} {"p99",8}");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine();
        Console.WriteLine("The page waits 120 ms after the last key before it asks (connect.js), so 120 ms is the floor of every number above.");
        return failed > 0 ? 1 : 0;
    }

    private static string Quote(string query) => "\"" + query + "\"";

    private static async Task<string> CreateSessionAsync(Uri api, string key)
    {
        using var http = new HttpClient { BaseAddress = api };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.PostAsJsonAsync("v1/patient-sessions", new Dictionary<string, string>
        {
            ["patient_id"] = "bench-typing",
            ["return_url"] = new Uri(api, "health/live").ToString(),
        });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /v1/patient-sessions: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("url").GetString()!;
    }

    private static double Percentile(List<double> values, int percentile)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
