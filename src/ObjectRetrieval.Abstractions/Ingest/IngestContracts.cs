using Orleans.Concurrency;

namespace ObjectRetrieval.Abstractions.Ingest;

/// <summary>Where an ingest job reads images from.</summary>
[GenerateSerializer, Alias("objret.IngestSourceKind")]
public enum IngestSourceKind
{
    /// <summary>A container (and optional prefix) of the blob account the silos are configured with.</summary>
    Blob,

    /// <summary>A directory readable by every encoder silo (the embedded, one-machine run).</summary>
    Directory,
}

/// <summary>The images of a job: a blob container and prefix, or a directory (searched recursively).</summary>
[GenerateSerializer, Immutable, Alias("objret.IngestSource")]
public sealed record IngestSource(
    [property: Id(0)] IngestSourceKind Kind,
    [property: Id(1)] string Location,
    [property: Id(2)] string? Prefix)
{
    public static IngestSource Container(string container, string? prefix = null) => new(IngestSourceKind.Blob, container, prefix);

    public static IngestSource Folder(string directory) => new(IngestSourceKind.Directory, directory, null);

    public override string ToString() => Kind == IngestSourceKind.Blob ? $"blob {Location}/{Prefix}" : $"directory {Location}";
}

/// <summary>How a job cuts and filters its work.</summary>
[GenerateSerializer, Immutable, Alias("objret.IngestJobOptions")]
public sealed record IngestJobOptions(
    [property: Id(0)] int BatchSize,
    [property: Id(1)] IReadOnlyList<string> Extensions,
    [property: Id(2)] long MaxBytes)
{
    public const int MinBatchSize = 64;
    public const int MaxBatchSize = 512;

    public static readonly IReadOnlyList<string> ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"];

    public static IngestJobOptions Default { get; } = new(256, ImageExtensions, 64L * 1024 * 1024);

    /// <summary>What is wrong with the options, or null.</summary>
    public string? Problem()
    {
        if (BatchSize is < MinBatchSize or > MaxBatchSize) return $"Batch size {BatchSize} must be between {MinBatchSize} and {MaxBatchSize}.";
        if (Extensions.Count == 0) return "Name at least one file extension (e.g. .jpg).";
        if (Extensions.Any(e => e.Length < 2 || e[0] != '.')) return "Extensions start with a dot: .jpg, .png.";
        if (MaxBytes < 1) return $"Maximum image size {MaxBytes} must be positive.";
        return null;
    }

    /// <summary>True when the name has one of the extensions (case-insensitive).</summary>
    public bool Accepts(string name) => Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}

/// <summary>One listed image: its name in the source, the version marker of its content, and its size.</summary>
/// <param name="Version">The blob's ETag, or size and modification time of a file: changes whenever the content does.</param>
[GenerateSerializer, Immutable, Alias("objret.IngestItem")]
public sealed record IngestItem(
    [property: Id(0)] string Name,
    [property: Id(1)] string Version,
    [property: Id(2)] long Size);

[GenerateSerializer, Alias("objret.IngestJobPhase")]
public enum IngestJobPhase
{
    Running,
    Paused,

    /// <summary>Cancel requested; batches in flight are being stopped.</summary>
    Cancelling,
    Cancelled,
    Completed,

    /// <summary>The job cannot go on (its index or source is gone); see the status message.</summary>
    Failed,
}

/// <summary>Counts of a job, in images. Listed = queued + in flight + indexed + failed + unchanged + the part of a page not cut yet.</summary>
[GenerateSerializer, Immutable, Alias("objret.IngestJobStatus")]
public sealed record IngestJobStatus(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Index,
    [property: Id(2)] IngestSource Source,
    [property: Id(3)] IngestJobPhase Phase,
    [property: Id(4)] bool ListingComplete,
    [property: Id(5)] long Listed,
    [property: Id(6)] long Skipped,
    [property: Id(7)] long Queued,
    [property: Id(8)] long InFlight,
    [property: Id(9)] long Indexed,
    [property: Id(10)] long Failed,
    [property: Id(11)] long Unchanged,
    [property: Id(12)] double ImagesPerSecond,
    [property: Id(13)] double? EtaSeconds,
    [property: Id(14)] DateTimeOffset CreatedAt,
    [property: Id(15)] DateTimeOffset? FinishedAt,
    [property: Id(16)] string? Message,
    [property: Id(17)] long BatchesDone,
    [property: Id(18)] long LeasesReissued,
    [property: Id(19)] IReadOnlyDictionary<string, int> BatchesInFlightBySilo)
{
    public long Processed => Indexed + Failed + Unchanged;

    public bool IsFinished => Phase is IngestJobPhase.Completed or IngestJobPhase.Cancelled or IngestJobPhase.Failed;
}

/// <summary>An image the job could not use, and why (a reason such as Truncated, Corrupt, UnknownFormat, TooLarge).</summary>
[GenerateSerializer, Immutable, Alias("objret.IngestFailure")]
public sealed record IngestFailure(
    [property: Id(0)] string Name,
    [property: Id(1)] string Reason,
    [property: Id(2)] string Message);

[GenerateSerializer, Immutable, Alias("objret.IngestFailurePage")]
public sealed record IngestFailurePage(
    [property: Id(0)] long Total,
    [property: Id(1)] long Offset,
    [property: Id(2)] IReadOnlyList<IngestFailure> Failures);

/// <summary>A unit of work leased to an encoder worker until <see cref="Deadline"/>.</summary>
[GenerateSerializer, Immutable, Alias("objret.IngestLease")]
public sealed record IngestLease(
    [property: Id(0)] string JobId,
    [property: Id(1)] long BatchId,
    [property: Id(2)] Guid LeaseId,
    [property: Id(3)] string Index,
    [property: Id(4)] IngestSource Source,
    [property: Id(5)] IReadOnlyList<IngestItem> Items,
    [property: Id(6)] long MaxBytes,
    [property: Id(7)] DateTimeOffset Deadline,
    [property: Id(8)] TimeSpan Duration);

/// <summary>What a worker did with a batch; sent only after every upsert was acknowledged by its shard.</summary>
[GenerateSerializer, Immutable, Alias("objret.IngestBatchResult")]
public sealed record IngestBatchResult(
    [property: Id(0)] long BatchId,
    [property: Id(1)] Guid LeaseId,
    [property: Id(2)] int Indexed,
    [property: Id(3)] int Unchanged,
    [property: Id(4)] IReadOnlyList<IngestFailure> Failures);

[GenerateSerializer, Alias("objret.LeaseRenewal")]
public enum LeaseRenewal
{
    Renewed,

    /// <summary>The job no longer wants this batch (cancelled, or the lease expired and went to another worker): stop.</summary>
    Stop,
}
