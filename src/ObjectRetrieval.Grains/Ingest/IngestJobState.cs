using ObjectRetrieval.Abstractions.Ingest;

namespace ObjectRetrieval.Grains.Ingest;

/// <summary>
/// The persisted state of a job. Its size is bounded whatever the source's size: a listing cursor,
/// counters, and records only for batches listed but not yet done (at most
/// <see cref="IngestSettings.MaxPendingBatches"/>). Failures live in their own pages.
/// </summary>
[GenerateSerializer, Alias("objret.IngestJobState")]
public sealed class IngestJobState
{
    [Id(0)] public string? Index { get; set; }

    [Id(1)] public IngestSource? Source { get; set; }

    [Id(2)] public IngestJobOptions? Options { get; set; }

    [Id(3)] public IngestJobPhase Phase { get; set; }

    /// <summary>Where listing goes on: the continuation token, or the last relative path of a directory.</summary>
    [Id(4)] public string? Cursor { get; set; }

    [Id(5)] public bool ListingComplete { get; set; }

    [Id(6)] public long NextBatchId { get; set; }

    [Id(7)] public Dictionary<long, BatchRecord> Batches { get; set; } = [];

    [Id(8)] public long Listed { get; set; }

    [Id(9)] public long Skipped { get; set; }

    [Id(10)] public long Indexed { get; set; }

    [Id(11)] public long Failed { get; set; }

    [Id(12)] public long Unchanged { get; set; }

    [Id(13)] public long BatchesDone { get; set; }

    [Id(14)] public long LeasesReissued { get; set; }

    [Id(15)] public DateTimeOffset CreatedAt { get; set; }

    [Id(16)] public DateTimeOffset? FinishedAt { get; set; }

    [Id(17)] public string? Message { get; set; }

    public bool Started => Index is not null;
}

/// <summary>A batch listed but not done: its images, and the leases handed out for it.</summary>
[GenerateSerializer, Alias("objret.IngestBatchRecord")]
public sealed class BatchRecord
{
    [Id(0)] public List<IngestItem> Items { get; set; } = [];

    /// <summary>The lease that holds it now; null while queued.</summary>
    [Id(1)] public Guid? LeaseId { get; set; }

    [Id(2)] public string? Worker { get; set; }

    [Id(3)] public DateTimeOffset Deadline { get; set; }

    /// <summary>Every lease issued for this batch: a report under any of them counts, under no other.</summary>
    [Id(4)] public List<Guid> Leases { get; set; } = [];

    [Id(5)] public string? Silo { get; set; }

    /// <summary>
    /// Leases of this batch that expired while it held a single image: each is an encoder process lost while
    /// that image was the only one it worked on (a slow worker renews, so only a lost one lets a lease expire).
    /// </summary>
    [Id(6)] public int LostAlone { get; set; }
}

[GenerateSerializer, Alias("objret.IngestFailurePageState")]
public sealed class IngestFailurePageState
{
    [Id(0)] public List<IngestFailure> Failures { get; set; } = [];
}

[GenerateSerializer, Alias("objret.IngestJobRegistryState")]
public sealed class IngestJobRegistryState
{
    [Id(0)] public HashSet<string> Jobs { get; set; } = new(StringComparer.Ordinal);
}
