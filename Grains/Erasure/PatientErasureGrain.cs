using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PatientConnect.Connections;
using PatientConnect.Erasure;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Erasure;

/// <summary>
/// Right to delete, one job per DELETE /v1/patients/{patient_id} (key: its del_ id). In order, each step
/// idempotent so a resumed job runs it again safely:
/// <list type="number">
/// <item>the sessions' grains (reminder and state), so no open session connects anything new;</item>
/// <item>the connections' grains: revoked at their source (RFC 7009), reminders, sync, state;</item>
/// <item>the tables (<see cref="ErasureStore"/>): records, sync checkpoints, events with their
/// deliveries, idempotent answers that hold the patient;</item>
/// <item>the patient's grain, then every one of those grains' storage and reminder rows;</item>
/// <item>completed: the job forgets the patient, and patient.deleted (the job object) is stored for the webhooks.</item>
/// </list>
/// A durable reminder keeps the job alive: a silo lost mid-job, or a step that failed (a database outage),
/// is resumed on the next tick until the job completes.
/// </summary>
public sealed class PatientErasureGrain(
    [PersistentState("erasure", "store")] IPersistentState<ErasureState> state,
    IEventOutbox outbox,
    IServiceProvider services,
    TimeProvider timeProvider,
    ILogger<PatientErasureGrain> logger) : Grain, IPatientErasureGrain, IRemindable
{
    public const string ReminderName = "erase";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private Task? _running;

    private string Id => this.GetPrimaryKeyString();
    private ErasureState S => state.State;

    public async Task<ErasureJobView?> Start(string tenantId, string patientId)
    {
        if (S.Exists) return S.TenantId == tenantId ? View() : throw new InvalidOperationException($"Erasure {Id} already exists.");
        var patient = GrainFactory.GetGrain<IPatientGrain>(Ids.PatientKey(tenantId, patientId));
        if (!await patient.Exists()) return null;
        var targets = await patient.ErasureTargets();
        state.State = new ErasureState
        {
            TenantId = tenantId,
            PatientId = patientId,
            Status = ErasureStatus.Running,
            CreatedAt = timeProvider.GetUtcNow(),
            SessionIds = [.. targets.SessionIds],
            ConnectionIds = [.. targets.ConnectionIds],
            EventId = Ids.NewEventId(),
        };
        // The job is stored before its reminder: a lost silo in between leaves a stored job that the
        // next DELETE does not see (it starts its own), never a reminder without a job.
        await state.WriteStateAsync();
        await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        logger.LogInformation("Erasure {ErasureId} started for tenant {TenantId}: {Sessions} sessions, {Connections} connections",
            Id, tenantId, S.SessionIds.Count, S.ConnectionIds.Count);
        EnsureRunning();
        return View();
    }

    public Task<ErasureJobView?> Get(string tenantId) =>
        Task.FromResult(S.Exists && S.TenantId == tenantId ? View() : null);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        if (!S.Exists || (S.Status == ErasureStatus.Completed && S.EventStored))
        {
            await StopReminder();
            return;
        }
        EnsureRunning();
    }

    /// <summary>One run at a time, off the caller's turn (the DELETE answers 202 at once).</summary>
    private void EnsureRunning()
    {
        if (_running is { IsCompleted: false }) return;
        _running = RunAsync();
    }

    private async Task RunAsync()
    {
        try
        {
            if (S.Status != ErasureStatus.Completed) await EraseAsync();
            if (!S.EventStored)
            {
                await outbox.AppendAsync([EventJson.ForErasure(S.EventId, S.TenantId!, View(), S.CompletedAt ?? timeProvider.GetUtcNow())]);
                S.EventStored = true;
                await state.WriteStateAsync();
            }
            await StopReminder();
        }
        catch (Exception e)
        {
            // Left running; the reminder resumes it. The reason's kind only: messages can name the patient.
            S.LastError = e.GetType().Name;
            logger.LogWarning("Erasure {ErasureId}: attempt {Attempt} failed ({Kind}); the reminder resumes it", Id, S.Attempts, e.GetType().Name);
            try
            {
                await state.WriteStateAsync();
            }
            catch (Exception)
            {
                // The database is away too; the reminder tries again.
            }
        }
    }

    private async Task EraseAsync()
    {
        var tenantId = S.TenantId!;
        var patient = GrainFactory.GetGrain<IPatientGrain>(Ids.PatientKey(tenantId, S.PatientId!));
        S.Attempts++;
        // A session created after the DELETE (or a connection made by one) is erased too.
        var targets = await patient.ErasureTargets();
        S.SessionIds = [.. S.SessionIds.Union(targets.SessionIds, StringComparer.Ordinal)];
        S.ConnectionIds = [.. S.ConnectionIds.Union(targets.ConnectionIds, StringComparer.Ordinal)];
        await state.WriteStateAsync();

        foreach (var sessionId in S.SessionIds.Where(id => !S.Done.Contains(id)).ToList())
        {
            var erased = await GrainFactory.GetGrain<IPatientSessionGrain>(sessionId).Erase(tenantId);
            S.Counts = S.Counts with { Sessions = S.Counts.Sessions + (erased ? 1 : 0) };
            S.Done.Add(sessionId);
            await state.WriteStateAsync();
        }
        foreach (var connectionId in S.ConnectionIds.Where(id => !S.Done.Contains(id)).ToList())
        {
            var erased = await GrainFactory.GetGrain<IConnectionGrain>(connectionId).Erase(tenantId);
            if (erased.RevocationError is not null)
            {
                logger.LogWarning("Erasure {ErasureId}: connection {ConnectionId} could not be revoked at its source; its tokens are deleted",
                    Id, connectionId);
            }
            S.Counts = S.Counts with
            {
                Connections = S.Counts.Connections + (erased.Existed ? 1 : 0),
                ConnectionsRevoked = S.Counts.ConnectionsRevoked + (erased.Revoked ? 1 : 0),
            };
            S.Done.Add(connectionId);
            await state.WriteStateAsync();
        }

        if (services.GetService<ErasureStore>() is { } store)
        {
            var removed = await store.DeleteDataAsync(tenantId, S.PatientId!, S.SessionIds, S.ConnectionIds);
            S.Counts = S.Counts with
            {
                Records = S.Counts.Records + removed.Records,
                Events = S.Counts.Events + removed.Events,
                IdempotencyRecords = S.Counts.IdempotencyRecords + removed.IdempotencyRecords,
            };
            await state.WriteStateAsync();
        }
        await patient.Erase();
        if (services.GetService<ErasureStore>() is { } rows)
        {
            await rows.DeleteGrainRowsAsync([Ids.PatientKey(tenantId, S.PatientId!), .. S.SessionIds, .. S.ConnectionIds]);
        }

        S.Status = ErasureStatus.Completed;
        S.CompletedAt = timeProvider.GetUtcNow();
        S.LastError = null;
        S.PatientId = null;
        S.SessionIds = [];
        S.ConnectionIds = [];
        S.Done = [];
        await state.WriteStateAsync();
        logger.LogInformation("Erasure {ErasureId} completed: {Counts}", Id, S.Counts);
    }

    private async Task StopReminder()
    {
        if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private ErasureJobView View() => new(Id, S.Status, S.CreatedAt, S.CompletedAt, S.Counts, S.Attempts, S.LastError);
}
