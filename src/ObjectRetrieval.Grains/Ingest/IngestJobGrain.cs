using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using Orleans.Runtime;

namespace ObjectRetrieval.Grains.Ingest;

/// <summary>
/// Drives one ingest job: lists ahead into batches while fewer than <see cref="IngestSettings.MaxPendingBatches"/>
/// are pending, leases them to workers, reissues expired leases, and counts reports (IngestJobGrain.Batches.cs).
/// State is saved on each tick when it changed: a crash loses at most a tick of progress, which is then
/// redone; upserts are idempotent and a batch's failures are written at fixed positions, so redoing never
/// duplicates.
/// </summary>
public sealed partial class IngestJobGrain(
    [PersistentState("job", IngestNames.StorageProvider)] IPersistentState<IngestJobState> state,
    IngestSourceReader sources,
    IOptions<IngestSettings> settings,
    ILogger<IngestJobGrain> logger) : Grain, IIngestJobGrain
{
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly Queue<(DateTimeOffset At, long Processed)> _progress = new();
    private IGrainTimer? _timer;
    private bool _dirty;

    private IngestJobState S => state.State;

    private string JobId => this.GetPrimaryKeyString();

    private IngestSettings Settings => settings.Value;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Started && !IsFinished) StartTimer();
        PublishProgress();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            if (_dirty) await SaveAsync();
        }
        finally
        {
            IngestMetrics.WithdrawJob(JobId);
        }
    }

    public async Task<IngestJobStatus> StartAsync(string index, IngestSource source, IngestJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        if (S.Started)
        {
            if (S.Index == index && S.Source == source && S.Options is { } o && o.BatchSize == options.BatchSize && o.MaxBytes == options.MaxBytes
                && o.Extensions.SequenceEqual(options.Extensions))
            {
                return Status();
            }

            throw new ArgumentException($"Ingest job '{JobId}' already exists with other arguments.");
        }

        if (options.Problem() is { } problem) throw new ArgumentException(problem);
        if (await GrainFactory.GetGrain<IIndexGrain>(index).GetDefinitionAsync() is null) throw new ArgumentException($"There is no index named '{index}'.");
        await sources.CheckAsync(source);

        S.Index = index;
        S.Source = source;
        S.Options = options with { Extensions = options.Extensions.Select(e => e.ToLowerInvariant()).Distinct().ToArray() };
        S.Phase = IngestJobPhase.Running;
        S.CreatedAt = _time.GetUtcNow();
        await GrainFactory.GetGrain<IIngestJobRegistryGrain>(IIngestJobRegistryGrain.Key).AddAsync(JobId);
        await SaveAsync();
        logger.LogInformation("Ingest job {Job} started: {Source} into index {Index}, batches of {BatchSize}.", JobId, source, index, options.BatchSize);
        StartTimer();
        await FillAsync();
        WakeWorkers();
        return Status();
    }

    public Task<IngestJobStatus?> StatusAsync() => Task.FromResult(S.Started ? Status() : null);

    public async Task<IngestFailurePage> FailuresAsync(long offset, int limit)
    {
        long total = S.Failed;
        offset = Math.Clamp(offset, 0, total);
        limit = (int)Math.Min(Math.Clamp(limit, 0, IngestNames.FailurePageSize), total - offset);
        var failures = new List<IngestFailure>(limit);
        while (failures.Count < limit)
        {
            long position = offset + failures.Count;
            long page = position / IngestNames.FailurePageSize;
            int within = (int)(position % IngestNames.FailurePageSize);
            int count = Math.Min(limit - failures.Count, IngestNames.FailurePageSize - within);
            IReadOnlyList<IngestFailure> read = await GrainFactory.GetGrain<IIngestFailurePageGrain>(IngestNames.FailurePageKey(JobId, page)).ReadAsync(within, count);
            if (read.Count == 0) break;
            failures.AddRange(read);
        }

        return new IngestFailurePage(total, offset, failures);
    }

    public async Task<IngestJobStatus> CancelAsync()
    {
        RequireStarted();
        if (IsFinished || S.Phase == IngestJobPhase.Cancelling) return Status();
        S.Phase = IngestJobPhase.Cancelling;
        foreach (long id in S.Batches.Where(b => b.Value.LeaseId is null).Select(b => b.Key).ToArray()) S.Batches.Remove(id);
        AbortLeasedBatches();
        await FinishIfDoneAsync();
        await SaveAsync();
        logger.LogInformation("Ingest job {Job} cancelled; {InFlight} batches in flight are being stopped.", JobId, S.Batches.Count);
        return Status();
    }

    public async Task<IngestJobStatus> PauseAsync()
    {
        RequireStarted();
        if (S.Phase != IngestJobPhase.Running) throw new InvalidOperationException($"Ingest job '{JobId}' is {S.Phase}; only a running job can be paused.");
        S.Phase = IngestJobPhase.Paused;
        await SaveAsync();
        return Status();
    }

    public async Task<IngestJobStatus> ResumeAsync()
    {
        RequireStarted();
        if (S.Phase != IngestJobPhase.Paused) throw new InvalidOperationException($"Ingest job '{JobId}' is {S.Phase}; only a paused job can be resumed.");
        S.Phase = IngestJobPhase.Running;
        _progress.Clear();
        await SaveAsync();
        WakeWorkers();
        return Status();
    }

    public Task WakeAsync()
    {
        if (S.Started && !IsFinished) WakeWorkers();
        return Task.CompletedTask;
    }

    private bool IsFinished => S.Phase is IngestJobPhase.Completed or IngestJobPhase.Cancelled or IngestJobPhase.Failed;

    private void RequireStarted()
    {
        if (!S.Started) throw new InvalidOperationException($"There is no ingest job '{JobId}'.");
    }

    private void StartTimer()
    {
        _timer ??= this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(Settings.TickInterval, Settings.TickInterval) { Interleave = false, KeepAlive = true });
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ExpireLeasesAsync();
            if (S.Phase == IngestJobPhase.Running) await FillAsync();
            await FinishIfDoneAsync();
            if (_dirty) await SaveAsync();
            if (IsFinished)
            {
                _timer?.Dispose();
                _timer = null;
                return;
            }

            if (S.Phase == IngestJobPhase.Running && S.Batches.Values.Any(b => b.LeaseId is null)) WakeWorkers();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Storage or listing hiccups: the next tick tries again from the same state.
            logger.LogWarning(e, "Ingest job {Job}: tick failed.", JobId);
        }
    }

    private async Task SaveAsync()
    {
        await state.WriteStateAsync();
        _dirty = false;
        PublishProgress();
    }

    /// <summary>
    /// Every change reaches storage through <see cref="SaveAsync"/> within a tick, so the job's gauges follow it from
    /// there. A finished job keeps reporting its final counts until the grain deactivates.
    /// </summary>
    private void PublishProgress()
    {
        if (!S.Started) return;
        IngestMetrics.PublishJob(JobId, new IngestMetrics.JobProgress(
            S.Index!, S.Listed, S.Skipped, S.Indexed, S.Unchanged, S.Failed, S.Batches.Values.Count(b => b.LeaseId is not null)));
    }

    private void WakeWorkers()
    {
        for (int i = 0; i < Settings.WorkersPerJob; i++)
        {
            _ = GrainFactory.GetGrain<IIngestWorkerGrain>(IngestNames.WorkerKey(JobId, i)).WakeAsync()
                .ContinueWith(t => logger.LogDebug(t.Exception, "Waking worker failed."), TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    private void AbortLeasedBatches()
    {
        foreach ((long id, BatchRecord batch) in S.Batches)
        {
            if (batch.Worker is null || batch.LeaseId is null) continue;
            _ = GrainFactory.GetGrain<IIngestWorkerGrain>(batch.Worker).AbortAsync(id)
                .ContinueWith(t => logger.LogDebug(t.Exception, "Aborting a worker failed."), TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    private IngestJobStatus Status()
    {
        long queued = 0, inFlight = 0;
        foreach (BatchRecord batch in S.Batches.Values)
        {
            if (batch.LeaseId is null) queued += batch.Items.Count;
            else inFlight += batch.Items.Count;
        }

        long processed = S.Indexed + S.Failed + S.Unchanged;
        double rate = Rate(processed);
        double? eta = S.ListingComplete && rate > 0 ? (queued + inFlight) / rate : null;
        if (IsFinished) eta = 0;
        return new IngestJobStatus(
            JobId, S.Index!, S.Source!, S.Phase, S.ListingComplete, S.Listed, S.Skipped, queued, inFlight,
            S.Indexed, S.Failed, S.Unchanged, rate, eta, S.CreatedAt, S.FinishedAt, S.Message, S.BatchesDone, S.LeasesReissued,
            S.Batches.Values.Where(b => b.LeaseId is not null && b.Silo is not null).GroupBy(b => b.Silo!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal));
    }

    /// <summary>Images per second over the last half minute of this activation.</summary>
    private double Rate(long processed)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (S.Phase != IngestJobPhase.Running) return 0;
        if (_progress.Count == 0 || _progress.Last().Processed != processed) _progress.Enqueue((now, processed));
        while (_progress.Count > 2 && now - _progress.Peek().At > TimeSpan.FromSeconds(30)) _progress.Dequeue();
        (DateTimeOffset since, long then) = _progress.Peek();
        double seconds = (now - since).TotalSeconds;
        return seconds > 0.5 ? (processed - then) / seconds : 0;
    }
}
