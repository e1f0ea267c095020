using PatientConnect.Idempotency;
using PatientConnect.Tenants;

namespace PatientConnect.Grains.Tests;

public sealed class TenantAndIdempotencyTests(ClusterFixture f)
{
    [Fact]
    public async Task Api_key_resolves_to_its_tenant_and_unknown_keys_to_none()
    {
        var key = f.Grains.GetGrain<IApiKeyGrain>(ApiKeys.Hash("pk_" + Guid.NewGuid()));
        Assert.Null(await key.GetTenant());
        await key.Assign("acme");
        await key.Assign("acme");
        Assert.Equal("acme", await key.GetTenant());
        await Assert.ThrowsAsync<ArgumentException>(() => key.Assign("a/b"));
    }

    [Fact]
    public async Task Idempotency_key_replays_the_first_answer_for_24_hours_then_frees_up()
    {
        var grain = f.Grains.GetGrain<IIdempotencyGrain>("tenant-a/" + Guid.NewGuid().ToString("N"));
        Assert.Null(await grain.TryClaim("hash-1"));

        var inProgress = await grain.TryClaim("hash-1");
        Assert.Equal(0, inProgress!.StatusCode);

        await grain.Complete(new IdempotentResponse("hash-1", 201, """{"id":"ps_x"}""", "/v1/patient-sessions/ps_x", f.Clock.GetUtcNow()));
        var replay = await grain.TryClaim("hash-1");
        Assert.Equal(201, replay!.StatusCode);
        Assert.Equal("""{"id":"ps_x"}""", replay.BodyJson);
        Assert.Equal("hash-1", replay.RequestHash);
        // A different body under the same key gets the stored answer too; the caller compares the hash.
        Assert.Equal("hash-1", (await grain.TryClaim("hash-2"))!.RequestHash);

        f.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        Assert.Null(await grain.TryClaim("hash-3"));
        await grain.Release();
    }

    [Fact]
    public async Task A_claim_retried_by_its_own_request_is_still_its_own_and_another_request_waits()
    {
        var grain = f.Grains.GetGrain<IIdempotencyGrain>("tenant-a/" + Guid.NewGuid().ToString("N"));
        Assert.Null(await grain.TryClaim("hash-1", "request-1"));
        // The answer of the first call was lost with a silo: the same request asks again and holds the claim.
        Assert.Null(await grain.TryClaim("hash-1", "request-1"));
        // Another request with the same key meanwhile is told it is in progress.
        Assert.Equal(0, (await grain.TryClaim("hash-1", "request-2"))!.StatusCode);
        await grain.Complete(new IdempotentResponse("hash-1", 201, """{"id":"ps_y"}""", null, f.Clock.GetUtcNow()));
        // Completed: even the first request's claim id gets the stored answer now.
        Assert.Equal(201, (await grain.TryClaim("hash-1", "request-1"))!.StatusCode);
    }

    [Fact]
    public async Task Released_or_abandoned_claims_can_be_taken_again()
    {
        var grain = f.Grains.GetGrain<IIdempotencyGrain>("tenant-a/" + Guid.NewGuid().ToString("N"));
        Assert.Null(await grain.TryClaim("h"));
        await grain.Release();
        Assert.Null(await grain.TryClaim("h"));
        f.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Null(await grain.TryClaim("h"));
        await grain.Release();
    }
}
