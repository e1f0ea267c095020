using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>API keys as data: an operator creates a tenant's key (shown once), lists it by prefix, revokes it.</summary>
public sealed class ApiKeyAdminTests(ServiceProcesses services) : EndToEndTest(services)
{
    private HttpClient Admin()
    {
        var client = Services.ApiClient(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ServiceProcesses.AdminUser}:{Services.AdminPassword}")));
        return client;
    }

    [Fact]
    public async Task A_created_key_works_for_its_tenant_is_listed_by_prefix_and_stops_working_when_revoked()
    {
        using var admin = Admin();
        using var created = await admin.PostAsJsonAsync($"admin/tenants/{ServiceProcesses.TenantB}/api-keys", new { name = "ci" }, Cancel);
        var key = await Json.ReadAsync(created, HttpStatusCode.Created);
        var secret = key.Str("key")!;
        var id = key.Str("id")!;
        Assert.StartsWith("pc_live_", secret);
        Assert.StartsWith(key.Str("prefix")!, secret);

        // The new key is tenant B's: it sees B's webhook endpoints, not A's.
        using var asB = Services.ApiClient(secret);
        using (var ok = await asB.GetAsync("v1/webhook-endpoints", Cancel)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var list = await Json.GetAsync(admin, $"admin/tenants/{ServiceProcesses.TenantB}/api-keys");
        var listed = Assert.Single(list["data"]!.AsArray(), k => k.Str("id") == id);
        Assert.Equal(key.Str("prefix"), listed.Str("prefix"));
        Assert.DoesNotContain(secret, list.ToJsonString());
        Assert.DoesNotContain((await Json.GetAsync(admin, $"admin/tenants/{ServiceProcesses.TenantA}/api-keys"))["data"]!.AsArray(),
            k => k.Str("id") == id);

        using (var revoked = await admin.DeleteAsync($"admin/tenants/{ServiceProcesses.TenantB}/api-keys/{id}", Cancel))
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(2.5);
        HttpStatusCode status;
        do
        {
            using var after = await asB.GetAsync("v1/webhook-endpoints", Cancel);
            status = after.StatusCode;
            if (status == HttpStatusCode.Unauthorized) break;
            await Task.Delay(100, Cancel);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.NotNull((await Json.GetAsync(admin, $"admin/tenants/{ServiceProcesses.TenantB}/api-keys"))["data"]!.AsArray()
            .Single(k => k.Str("id") == id)!["revoked_at"]);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_on_every_api_instance_within_seconds()
    {
        var second = await Services.StartAnotherApiAsync();
        using var admin = Admin();
        using var created = await admin.PostAsJsonAsync($"admin/tenants/{ServiceProcesses.TenantB}/api-keys", new { name = "two-instances" }, Cancel);
        var key = await Json.ReadAsync(created, HttpStatusCode.Created);
        var secret = key.Str("key")!;

        using var onFirst = Services.ApiClient(secret);
        using var onSecond = Services.ApiClient(secret);
        onSecond.BaseAddress = second;
        // Both instances know the key (and hold it in their caches) before it is revoked on the first.
        foreach (var client in new[] { onFirst, onSecond })
        {
            using var ok = await client.GetAsync("v1/webhook-endpoints", Cancel);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var revoked = await admin.DeleteAsync($"admin/tenants/{ServiceProcesses.TenantB}/api-keys/{key.Str("id")}", Cancel))
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(2.5);
        var statuses = new HttpStatusCode[2];
        while (true)
        {
            for (var i = 0; i < 2; i++)
            {
                using var after = await (i == 0 ? onFirst : onSecond).GetAsync("v1/webhook-endpoints", Cancel);
                statuses[i] = after.StatusCode;
            }
            if (statuses.All(s => s == HttpStatusCode.Unauthorized) || DateTime.UtcNow > deadline) break;
            await Task.Delay(100, Cancel);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], statuses);
    }

    [Fact]
    public async Task The_admin_api_needs_the_admin_credential()
    {
        using (var anonymous = await Anonymous.PostAsJsonAsync($"admin/tenants/{ServiceProcesses.TenantA}/api-keys", new { }, Cancel))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var tenant = await ApiA.GetAsync($"admin/tenants/{ServiceProcesses.TenantA}/api-keys", Cancel))
            Assert.Equal(HttpStatusCode.Unauthorized, tenant.StatusCode);
        using var admin = Admin();
        using var missing = await admin.DeleteAsync($"admin/tenants/{ServiceProcesses.TenantA}/api-keys/key_nope", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
