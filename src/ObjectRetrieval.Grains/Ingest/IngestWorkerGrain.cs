using Microsoft.Extensions.Logging;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Grains.Placement;

namespace ObjectRetrieval.Grains.Ingest;

/// <summary>
/// An encoder worker of one job, placed only on encoder silos. While its job has batches and its silo a free
/// batch slot (<see cref="IngestSiloThrottle"/>: the backpressure), it leases a batch, renews the lease while
/// working, and reports the result once the shards acknowledged it. A worker that dies takes nothing with
/// it: its lease expires and the job hands the batch to another worker.
/// </summary>
[SiloRolePlacementFilter(SiloRoles.Encoder)]
public sealed class IngestWorkerGrain(
    IngestBatchProcessor processor,
    IngestSiloThrottle throttle,
    ILogger<IngestWorkerGrain> logger) : Grain, IIngestWorkerGrain
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private CancellationTokenSource? _batch;
    private long _batchId = -1;

    private string Key => this.GetPrimaryKeyString();

    private IIngestJobGrain Job => GrainFactory.GetGrain<IIngestJobGrain>(Key[..Key.LastIndexOf('/')]);

    public Task WakeAsync()
    {
        if (_loop is null || _loop.IsCompleted) _loop = RunAsync();
        return Task.CompletedTask;
    }

    public Task AbortAsync(long batchId)
    {
        if (_batchId == batchId) _batch?.Cancel();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Current);
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                using IDisposable slot = await throttle.BatchSlotAsync(_stopping.Token);
                IngestLease? lease = await Job.LeaseAsync(Key, RuntimeIdentity);
                if (lease is null) return;
                if (!await ProcessAsync(lease)) return;
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The job wakes the worker again on its next tick.
            logger.LogWarning(e, "Ingest worker {Worker} stopped.", Key);
        }
    }

    /// <summary>False when the batch failed: the worker pauses until the job wakes it, rather than spin on a fault.</summary>
    private async Task<bool> ProcessAsync(IngestLease lease)
    {
        using var batch = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _batch = batch;
        _batchId = lease.BatchId;
        Task renewing = RenewAsync(lease, batch);
        try
        {
            IngestBatchResult result = await processor.ProcessAsync(lease, batch.Token);
            await batch.CancelAsync();
            await Job.CompleteAsync(result);
            return true;
        }
        catch (Exception e)
        {
            if (!batch.IsCancellationRequested) logger.LogWarning(e, "Ingest worker {Worker}: batch {Batch} of job {Job} failed; it goes back to the queue.", Key, lease.BatchId, lease.JobId);
            await batch.CancelAsync();
            await Job.ReleaseAsync(lease.BatchId, lease.LeaseId);
            return !_stopping.IsCancellationRequested && e is OperationCanceledException;
        }
        finally
        {
            await renewing;
            _batch = null;
            _batchId = -1;
        }
    }

    private async Task RenewAsync(IngestLease lease, CancellationTokenSource batch)
    {
        TimeSpan period = lease.Duration / 3;
        try
        {
            while (true)
            {
                await Task.Delay(period, batch.Token);
                if (await Job.RenewAsync(lease.BatchId, lease.LeaseId) == LeaseRenewal.Stop)
                {
                    await batch.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // Renewal is best effort: without it the lease expires and the batch is redone, never lost.
            logger.LogDebug(e, "Renewing a lease failed.");
        }
    }
}
