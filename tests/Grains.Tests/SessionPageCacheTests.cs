using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PatientConnect.Grains.Sessions;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

/// <summary>
/// The list page cache's bookkeeping on its own: what it serves, for how long, how much it keeps, and
/// that a read overlapping an invalidation never stores what it read.
/// </summary>
public sealed class SessionPageCacheUnitTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);
    private static readonly SessionPageCache.PatientKey P = new("tenant-a", "p-1");
    private static readonly SessionPageCache.PageKey All = new(null, 50, null);

    private static SessionPageJson Json(string text) => new(Encoding.UTF8.GetBytes(text), 1);

    private static bool Store(SessionPageCache cache, SessionPageCache.PatientKey patient, SessionPageCache.PageKey key, SessionPageJson page,
        DateTimeOffset at, DateTimeOffset? changesAt = null) =>
        cache.EndRead(cache.BeginRead(patient), key, page, at, changesAt);

    [Fact]
    public void A_page_is_served_until_its_time_to_live_then_read_again()
    {
        var cache = new SessionPageCache(8, 1 << 20, Ttl);
        var page = Json("one");
        Assert.True(Store(cache, P, All, page, T0));

        Assert.True(cache.TryGet(P, All, T0 + Ttl - TimeSpan.FromTicks(1), out var served));
        Assert.Same(page, served);
        Assert.False(cache.TryGet(P, All, T0 + Ttl, out _));
        // Dropped, not just skipped: nothing of the patient is left.
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Patients);
    }

    [Fact]
    public void A_page_is_not_served_once_an_open_session_on_it_reaches_expires_at()
    {
        var cache = new SessionPageCache(8, 1 << 20, Ttl);
        var expiresAt = T0 + TimeSpan.FromSeconds(2);
        Assert.True(Store(cache, P, All, Json("open"), T0, expiresAt));
        Assert.True(cache.TryGet(P, All, expiresAt - TimeSpan.FromTicks(1), out _));
        Assert.False(cache.TryGet(P, All, expiresAt, out _));
        // A page that changes at the moment it is read is not kept at all (status=expired pages).
        Assert.False(Store(cache, P, All, Json("expired"), T0, T0));
        Assert.False(cache.TryGet(P, All, T0, out _));
    }

    [Fact]
    public void A_clock_that_went_back_does_not_serve_the_page()
    {
        var cache = new SessionPageCache(8, 1 << 20, Ttl);
        Assert.True(Store(cache, P, All, Json("one"), T0));
        Assert.False(cache.TryGet(P, All, T0 - TimeSpan.FromSeconds(1), out _));
    }

    [Fact]
    public void An_invalidation_drops_the_patients_pages_only()
    {
        var cache = new SessionPageCache(8, 1 << 20, Ttl);
        var other = new SessionPageCache.PatientKey("tenant-a", "p-2");
        var open = new SessionPageCache.PageKey(SessionStatus.Open, 50, null);
        Store(cache, P, All, Json("all"), T0);
        Store(cache, P, open, Json("open"), T0);
        Store(cache, other, All, Json("other"), T0);

        cache.Invalidate(P);
        Assert.False(cache.TryGet(P, All, T0, out _));
        Assert.False(cache.TryGet(P, open, T0, out _));
        Assert.True(cache.TryGet(other, All, T0, out _));

        cache.InvalidateAll();
        Assert.False(cache.TryGet(other, All, T0, out _));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void A_read_that_began_before_an_invalidation_keeps_nothing()
    {
        var cache = new SessionPageCache(8, 1 << 20, Ttl);
        // The read may have seen the rows before the writer's commit; the invalidation comes after it.
        var before = cache.BeginRead(P);
        cache.Invalidate(P);
        var after = cache.BeginRead(P);
        Assert.False(cache.EndRead(before, All, Json("old"), T0, null));
        Assert.False(cache.TryGet(P, All, T0, out _));
        // A read that began after the invalidation read after the commit: kept.
        Assert.True(cache.EndRead(after, All, Json("new"), T0, null));
        Assert.True(cache.TryGet(P, All, T0, out var page));
        Assert.Equal("new", Encoding.UTF8.GetString(page.Utf8));

        // The same across an invalidation of everything, and with the patient's entry otherwise empty.
        var third = cache.BeginRead(new SessionPageCache.PatientKey("tenant-b", "p-9"));
        cache.InvalidateAll();
        Assert.False(cache.EndRead(third, All, Json("old"), T0, null));
        // A failed read keeps nothing and leaves nothing behind.
        Assert.False(cache.EndRead(cache.BeginRead(P), All, null, T0, null));
        Assert.Equal(0, cache.Patients);
    }

    [Fact]
    public void Tenants_never_share_a_page()
    {
        var cache = new SessionPageCache(8, 1 << 20, Ttl);
        Store(cache, new SessionPageCache.PatientKey("tenant-a", "p-1"), All, Json("a"), T0);
        Assert.False(cache.TryGet(new SessionPageCache.PatientKey("tenant-b", "p-1"), All, T0, out _));
    }

    [Fact]
    public void Pages_per_patient_and_bytes_are_bounded_oldest_first()
    {
        var cache = new SessionPageCache(pagesPerPatient: 3, maxBytes: 10, Ttl);
        for (var limit = 1; limit <= 4; limit++)
        {
            Store(cache, P, new SessionPageCache.PageKey(null, limit, null), Json("p"), T0 + TimeSpan.FromMilliseconds(limit));
        }
        var now = T0 + TimeSpan.FromSeconds(1);
        Assert.False(cache.TryGet(P, new SessionPageCache.PageKey(null, 1, null), now, out _));
        Assert.True(cache.TryGet(P, new SessionPageCache.PageKey(null, 4, null), now, out _));
        Assert.Equal(3, cache.Count);

        // 10 bytes in all: another patient's 8-byte page pushes out the oldest pages of anyone.
        var other = new SessionPageCache.PatientKey("tenant-a", "p-2");
        Assert.True(Store(cache, other, All, Json("12345678"), T0 + TimeSpan.FromMilliseconds(10)));
        Assert.True(cache.Bytes <= 10);
        Assert.True(cache.TryGet(other, All, now, out _));
        Assert.True(cache.TryGet(P, new SessionPageCache.PageKey(null, 4, null), now, out _));
        Assert.False(cache.TryGet(P, new SessionPageCache.PageKey(null, 2, null), now, out _));
        // A page bigger than the whole bound is served but not kept.
        Assert.False(Store(cache, P, All, Json("12345678901"), T0));
    }
}

/// <summary>
/// The cache in the cluster, against the real writers: every create, completion and erasure is in the
/// next list at once (the pages are warm), the clock alone turns a cached open session expired, and a
/// missed invalidation is stale for at most the cache's time to live.
/// </summary>
public sealed class SessionPageCacheTests(ClusterFixture f)
{
    private const string A = ClusterFixture.TenantA;
    private const string B = ClusterFixture.TenantB;
    private static readonly SessionListQuery All = new(null, 50, null);

    private Task<SessionPageJson> CachedAsync(string tenant, string patient, SessionListQuery? query = null) =>
        f.Grains.GetGrain<ISessionPageCacheGrain>(SessionPageShards.Of(tenant, patient)).Page(tenant, patient, query ?? All);

    private Task<SessionPageJson> UncachedAsync(string tenant, string patient, SessionListQuery? query = null) =>
        f.UncachedListJsonAsync(tenant, patient, query ?? All);

    private static List<(string Id, string Status)> Items(SessionPageJson page) =>
        [.. JsonDocument.Parse(page.Utf8).RootElement.GetProperty("data").EnumerateArray()
            .Select(s => (s.GetProperty("id").GetString()!, s.GetProperty("status").GetString()!))];

    private static string Text(SessionPageJson page) => Encoding.UTF8.GetString(page.Utf8);

    [Fact]
    public async Task Every_create_is_in_the_next_list_of_a_warm_cache()
    {
        var patient = TestData.NewPatientId();
        var created = new List<string>();
        var open = new SessionListQuery(SessionStatus.Open, 50, null);
        var pageOfTwo = new SessionListQuery(null, 2, null);
        for (var i = 0; i < 30; i++)
        {
            // Warm: the pages read once more after the last write, so memory holds them.
            await CachedAsync(A, patient);
            await CachedAsync(A, patient, open);
            await CachedAsync(A, patient, pageOfTwo);

            f.Clock.Advance(TimeSpan.FromMilliseconds(10));
            created.Insert(0, (await f.CreateSessionAsync(A, patient)).Id);

            var listed = await CachedAsync(A, patient);
            Assert.Equal(created, Items(listed).Select(s => s.Id));
            Assert.Equal(Text(await UncachedAsync(A, patient)), Text(listed));
            Assert.Equal(created, Items(await CachedAsync(A, patient, open)).Select(s => s.Id));
            Assert.Equal(Text(await UncachedAsync(A, patient, pageOfTwo)), Text(await CachedAsync(A, patient, pageOfTwo)));
        }
    }

    [Fact]
    public async Task A_completed_callback_is_in_the_next_list_of_a_warm_cache()
    {
        var patient = TestData.NewPatientId();
        var riverside = f.SourceId("riverside");
        var session = await f.CreateSessionAsync(A, patient, riverside);
        var complete = new SessionListQuery(SessionStatus.Complete, 50, null);
        Assert.Equal([(session.Id, "open")], Items(await CachedAsync(A, patient)));
        Assert.Empty(Items(await CachedAsync(A, patient, complete)));
        var callback = await f.ApproveAsync(session.Id, riverside);
        // BeginConnect wrote the row too: still open, still listed so.
        Assert.Equal([(session.Id, "open")], Items(await CachedAsync(A, patient)));

        var outcome = await f.Grains.GetGrain<IPatientSessionGrain>(session.Id).CompleteCallback(callback);
        Assert.Null(outcome.ErrorCode);

        Assert.Equal([(session.Id, "complete")], Items(await CachedAsync(A, patient)));
        Assert.Equal([(session.Id, "complete")], Items(await CachedAsync(A, patient, complete)));
        Assert.Equal(Text(await UncachedAsync(A, patient)), Text(await CachedAsync(A, patient)));
    }

    [Fact]
    public async Task A_cached_open_session_shows_expired_once_the_clock_passes_expires_at_with_no_write()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient, expiresIn: TimeSpan.FromSeconds(60));
        // The hand-moved clock stands still: moved so the two are listed in the order they were made.
        f.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var longer = await f.CreateSessionAsync(A, patient, expiresIn: TimeSpan.FromHours(1));
        var open = new SessionListQuery(SessionStatus.Open, 50, null);
        // The scheduler cannot record the expiry meanwhile: only the clock changes.
        using var noWake = FaultInjection.Fail($"{nameof(IPatientSessionGrain)}.{nameof(IPatientSessionGrain.Wake)}", int.MaxValue);
        Assert.Equal([(longer.Id, "open"), (session.Id, "open")], Items(await CachedAsync(A, patient)));
        Assert.Equal([longer.Id, session.Id], Items(await CachedAsync(A, patient, open)).Select(s => s.Id));

        f.Clock.Advance(TimeSpan.FromSeconds(59) - TimeSpan.FromMilliseconds(1));
        Assert.Equal([(longer.Id, "open"), (session.Id, "open")], Items(await CachedAsync(A, patient)));
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([(longer.Id, "open"), (session.Id, "expired")], Items(await CachedAsync(A, patient)));
        Assert.Equal([longer.Id], Items(await CachedAsync(A, patient, open)).Select(s => s.Id));
        Assert.Equal([session.Id], Items(await CachedAsync(A, patient, new SessionListQuery(SessionStatus.Expired, 50, null))).Select(s => s.Id));

        // Nothing was written: the row still says open (the list's "expired" is the clock's).
        var silo = Assert.IsType<InProcessSiloHandle>(f.Cluster.Primary);
        var index = silo.SiloHost.Services.GetRequiredService<ISessionIndex>();
        var stored = await index.ListAsync(new SessionListFilter(A, patient, null, f.Clock.GetUtcNow(), null, 10));
        Assert.Equal(SessionStatus.Open, stored.Single(s => s.Id == session.Id).State.Status);
    }

    [Fact]
    public async Task Another_tenants_same_patient_id_never_sees_the_page()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient);
        Assert.Equal([(session.Id, "open")], Items(await CachedAsync(A, patient)));
        Assert.Equal("""{"data":[],"next_cursor":null}""", Text(await CachedAsync(B, patient)));
        var theirs = await f.CreateSessionAsync(B, patient);
        Assert.Equal([(theirs.Id, "open")], Items(await CachedAsync(B, patient)));
        Assert.Equal([(session.Id, "open")], Items(await CachedAsync(A, patient)));
    }

    [Fact]
    public async Task An_erased_session_leaves_the_next_list_of_a_warm_cache()
    {
        var patient = TestData.NewPatientId();
        var kept = await f.CreateSessionAsync(A, patient);
        f.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var erased = await f.CreateSessionAsync(A, patient);
        Assert.Equal(2, (await CachedAsync(A, patient)).Count);
        Assert.True(await f.Grains.GetGrain<IPatientSessionGrain>(erased.Id).Erase(A));
        Assert.Equal([kept.Id], Items(await CachedAsync(A, patient)).Select(s => s.Id));
    }

    [Fact]
    public async Task A_missed_invalidation_is_stale_for_at_most_the_time_to_live()
    {
        var patient = TestData.NewPatientId();
        var first = await f.CreateSessionAsync(A, patient);
        Assert.Equal([first.Id], Items(await CachedAsync(A, patient)).Select(s => s.Id));

        SessionView second;
        f.Clock.Advance(TimeSpan.FromMilliseconds(1));
        // Every invalidation fails meanwhile (a scheduler's write for another test's session must not take the one failure).
        using (FaultInjection.Fail($"{nameof(ISessionPageCacheGrain)}.{nameof(ISessionPageCacheGrain.Invalidate)}", int.MaxValue))
        {
            // The create is committed and answered all the same.
            second = await f.CreateSessionAsync(A, patient);
        }
        // The page that was in memory is still served (which shows the list is cached at all) ...
        Assert.Equal([first.Id], Items(await CachedAsync(A, patient)).Select(s => s.Id));
        // (read 1 ms before the create: 1 ms short of its time to live now)
        f.Clock.Advance(SessionPageCacheGrain.TimeToLive - TimeSpan.FromMilliseconds(2));
        Assert.Equal([first.Id], Items(await CachedAsync(A, patient)).Select(s => s.Id));
        // ... until its time to live is up.
        f.Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([second.Id, first.Id], Items(await CachedAsync(A, patient)).Select(s => s.Id));
    }
}
