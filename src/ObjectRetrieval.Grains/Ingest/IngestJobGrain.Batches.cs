using Microsoft.Extensions.Logging;
using ObjectRetrieval.Abstractions.Ingest;

namespace ObjectRetrieval.Grains.Ingest;

public sealed partial class IngestJobGrain
{
    public async Task<IngestLease?> LeaseAsync(string workerKey, string silo)
    {
        if (!S.Started || S.Phase != IngestJobPhase.Running) return null;
        KeyValuePair<long, BatchRecord>? next = NextQueued();
        if (next is null)
        {
            await FillAsync();
            next = NextQueued();
            if (next is null) return null;
        }

        (long id, BatchRecord batch) = next.Value;
        var leaseId = Guid.NewGuid();
        DateTimeOffset deadline = _time.GetUtcNow() + Settings.LeaseDuration;
        batch.LeaseId = leaseId;
        batch.Worker = workerKey;
        batch.Silo = silo;
        batch.Deadline = deadline;
        batch.Leases.Add(leaseId);
        if (batch.Leases.Count > 1) S.LeasesReissued++;
        _dirty = true;
        return new IngestLease(JobId, id, leaseId, S.Index!, S.Source!, batch.Items, S.Options!.MaxBytes, deadline, Settings.LeaseDuration);
    }

    public Task<LeaseRenewal> RenewAsync(long batchId, Guid leaseId)
    {
        bool wanted = S.Phase is IngestJobPhase.Running or IngestJobPhase.Paused
            && S.Batches.TryGetValue(batchId, out BatchRecord? batch) && batch.LeaseId == leaseId;
        if (!wanted) return Task.FromResult(LeaseRenewal.Stop);
        S.Batches[batchId].Deadline = _time.GetUtcNow() + Settings.LeaseDuration;
        _dirty = true;
        return Task.FromResult(LeaseRenewal.Renewed);
    }

    public async Task CompleteAsync(IngestBatchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (IsFinished || !S.Batches.TryGetValue(result.BatchId, out BatchRecord? batch) || !batch.Leases.Contains(result.LeaseId)) return;

        // Failures go to fixed positions from the saved count: if this report is lost with a crash and the batch
        // redone, the same positions are written again instead of new ones.
        await WriteFailuresAsync(S.Failed, result.Failures);
        S.Indexed += result.Indexed;
        S.Unchanged += result.Unchanged;
        S.Failed += result.Failures.Count;
        S.BatchesDone++;
        S.Batches.Remove(result.BatchId);
        _dirty = true;
        Rate(S.Indexed + S.Failed + S.Unchanged);
        if (S.Phase == IngestJobPhase.Running && S.Batches.Count < Settings.MaxPendingBatches / 2) await FillAsync();
        await FinishIfDoneAsync();
    }

    public async Task ReleaseAsync(long batchId, Guid leaseId)
    {
        if (!S.Batches.TryGetValue(batchId, out BatchRecord? batch) || batch.LeaseId != leaseId) return;
        if (S.Phase == IngestJobPhase.Cancelling) S.Batches.Remove(batchId);
        else batch.LeaseId = null;
        _dirty = true;
        await FinishIfDoneAsync();
    }

    private KeyValuePair<long, BatchRecord>? NextQueued()
    {
        KeyValuePair<long, BatchRecord>? best = null;
        foreach (KeyValuePair<long, BatchRecord> entry in S.Batches)
        {
            if (entry.Value.LeaseId is null && (best is null || entry.Key < best.Value.Key)) best = entry;
        }

        return best;
    }

    /// <summary>
    /// Hands expired batches out again. A worker renews its lease while it works, so an expired lease was lost with
    /// its worker's process, and any image of the batch may have killed it: a batch of several images comes back as
    /// batches of one, so the next loss points at a single image; an image whose own lease was lost
    /// <see cref="IngestSettings.LostProcessAttempts"/> times is recorded as poison and not handed out again.
    /// </summary>
    private async Task ExpireLeasesAsync()
    {
        DateTimeOffset now = _time.GetUtcNow();
        var poison = new List<IngestFailure>();
        foreach ((long id, BatchRecord batch) in S.Batches.ToArray())
        {
            if (batch.LeaseId is null || batch.Deadline > now) continue;
            logger.LogWarning("Ingest job {Job}: lease of batch {Batch} ({Images} images) held by {Worker} on {Silo} expired unrenewed; its process is taken as lost.",
                JobId, id, batch.Items.Count, batch.Worker, batch.Silo);
            batch.LeaseId = null;
            batch.Worker = null;
            _dirty = true;
            if (batch.Items.Count > 1)
            {
                S.Batches.Remove(id);
                foreach (IngestItem item in batch.Items) S.Batches[S.NextBatchId++] = new BatchRecord { Items = [item] };
                continue;
            }

            batch.LostAlone++;
            if (batch.LostAlone < Settings.LostProcessAttempts) continue;
            IngestItem suspect = batch.Items[0];
            logger.LogWarning("Ingest job {Job}: image {Image} lost its encoder process {Times} times on its own; recorded as poison.", JobId, suspect.Name, batch.LostAlone);
            poison.Add(new IngestFailure(suspect.Name, IngestBatchProcessor.PoisonReason,
                $"Its encoder process was lost {batch.LostAlone} times while encoding this image alone (the lease expired unrenewed); it is not handed out again."));
            S.Batches.Remove(id);
        }

        if (poison.Count > 0)
        {
            await WriteFailuresAsync(S.Failed, poison);
            S.Failed += poison.Count;
        }

        if (S.Phase == IngestJobPhase.Cancelling)
        {
            foreach (long id in S.Batches.Where(b => b.Value.LeaseId is null).Select(b => b.Key).ToArray()) S.Batches.Remove(id);
        }
    }

    /// <summary>Lists pages until enough batches are pending or the listing ends.</summary>
    private async Task FillAsync()
    {
        IngestJobOptions options = S.Options!;
        while (!S.ListingComplete && S.Batches.Count < Settings.MaxPendingBatches)
        {
            int pageSize = options.BatchSize * Math.Max(1, Math.Min(4, Settings.MaxPendingBatches - S.Batches.Count));
            SourcePage page = await sources.ListAsync(S.Source!, S.Cursor, pageSize);
            S.Listed += page.Items.Count;
            var accepted = new List<IngestItem>(page.Items.Count);
            foreach (IngestItem item in page.Items)
            {
                if (options.Accepts(item.Name)) accepted.Add(item);
                else S.Skipped++;
            }

            foreach (IngestItem[] chunk in accepted.Chunk(options.BatchSize))
            {
                S.Batches[S.NextBatchId++] = new BatchRecord { Items = [.. chunk] };
            }

            S.Cursor = page.NextCursor;
            S.ListingComplete = page.NextCursor is null;
            _dirty = true;
        }
    }

    private async Task WriteFailuresAsync(long start, IReadOnlyList<IngestFailure> failures)
    {
        int written = 0;
        while (written < failures.Count)
        {
            long position = start + written;
            long page = position / IngestNames.FailurePageSize;
            int within = (int)(position % IngestNames.FailurePageSize);
            int count = Math.Min(failures.Count - written, IngestNames.FailurePageSize - within);
            await GrainFactory.GetGrain<IIngestFailurePageGrain>(IngestNames.FailurePageKey(JobId, page))
                .WriteAsync(within, failures.Skip(written).Take(count).ToArray());
            written += count;
        }
    }

    private async Task FinishIfDoneAsync()
    {
        IngestJobPhase? end = S.Phase switch
        {
            IngestJobPhase.Running when S.ListingComplete && S.Batches.Count == 0 => IngestJobPhase.Completed,
            IngestJobPhase.Cancelling when S.Batches.Count == 0 => IngestJobPhase.Cancelled,
            _ => null,
        };
        if (end is not { } phase) return;
        S.Phase = phase;
        S.FinishedAt = _time.GetUtcNow();
        await SaveAsync();
        await GrainFactory.GetGrain<IIngestJobRegistryGrain>(IIngestJobRegistryGrain.Key).RemoveAsync(JobId);
        logger.LogInformation("Ingest job {Job} {Phase}: {Indexed} indexed, {Unchanged} unchanged, {Failed} failed, {Skipped} skipped of {Listed} listed.",
            JobId, phase, S.Indexed, S.Unchanged, S.Failed, S.Skipped, S.Listed);
    }
}
