using System.Net;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

public sealed class SessionListTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Sessions_list_newest_first_filters_by_status_and_pages_with_a_cursor()
    {
        var patient = NewPatientId("list");
        var created = new List<string?>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await Flow.CreateSessionAsync(patient)).Str("id"));
        }
        var (denied, _) = await Flow.ConnectAsync(patient, "riverside", "deny");
        created.Add(denied.Str("id"));
        var newestFirst = Enumerable.Reverse(created).ToList();

        var all = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions");
        Assert.Equal(newestFirst, all["data"]!.AsArray().Select(s => s.Str("id")).ToList());
        Assert.Null(all.Str("next_cursor"));

        var open = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=open");
        Assert.Equal(newestFirst.Skip(1).ToList(), open["data"]!.AsArray().Select(s => s.Str("id")).ToList());
        Assert.All(open["data"]!.AsArray(), s => Assert.Equal("open", s.Str("status")));

        var complete = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=complete");
        Assert.Equal([denied.Str("id")], complete["data"]!.AsArray().Select(s => s.Str("id")).ToList());

        var expired = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=expired");
        Assert.Empty(expired["data"]!.AsArray());

        // Pages of two: every session exactly once, in order, then no cursor.
        var paged = new List<string?>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var path = $"v1/patients/{patient}/patient-sessions?limit=2" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await Json.GetAsync(ApiA, path);
            var items = page["data"]!.AsArray();
            Assert.InRange(items.Count, 1, 2);
            paged.AddRange(items.Select(s => s.Str("id")));
            cursor = page.Str("next_cursor");
            Assert.True(++pages <= 3, "more pages than sessions allow");
        }
        while (cursor is not null);
        Assert.Equal(newestFirst, paged);

        // The status filter pages too.
        var firstOpen = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=open&limit=3");
        Assert.Equal(newestFirst.Skip(1).Take(3).ToList(), firstOpen["data"]!.AsArray().Select(s => s.Str("id")).ToList());
        var restOpen = await Json.GetAsync(ApiA,
            $"v1/patients/{patient}/patient-sessions?status=open&limit=3&cursor={Uri.EscapeDataString(firstOpen.Str("next_cursor")!)}");
        Assert.Equal(newestFirst.Skip(4).ToList(), restOpen["data"]!.AsArray().Select(s => s.Str("id")).ToList());
    }

    [Theory]
    [InlineData("status=closed", "status")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    public async Task Bad_list_parameters_are_400_naming_them(string query, string field)
    {
        var patient = NewPatientId("badlist");
        await Flow.CreateSessionAsync(patient);
        using var response = await ApiA.GetAsync($"v1/patients/{patient}/patient-sessions?{query}", Cancel);
        var problem = await Json.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Str("field") == field || problem["errors"]?[field] is not null, problem.ToJsonString());
    }
}
