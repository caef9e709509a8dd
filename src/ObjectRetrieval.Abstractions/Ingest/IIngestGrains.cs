using Orleans.Concurrency;

namespace ObjectRetrieval.Abstractions.Ingest;

/// <summary>
/// One ingest job (key: the job id). Lists its source page by page, cuts the listing into batches, leases
/// them to encoder workers and counts what they report. Its state survives restarts of any process.
/// </summary>
[Alias("objret.IIngestJobGrain")]
public interface IIngestJobGrain : IGrainWithStringKey
{
    /// <summary>Starts the job; calling it again with the same arguments returns the job as it is.</summary>
    /// <exception cref="ArgumentException">Invalid options, an unknown index, or another job already under this id.</exception>
    [Alias("Start")]
    Task<IngestJobStatus> StartAsync(string index, IngestSource source, IngestJobOptions options);

    /// <summary>Null when no job of this id was started.</summary>
    [AlwaysInterleave, Alias("Status")]
    Task<IngestJobStatus?> StatusAsync();

    [AlwaysInterleave, Alias("Failures")]
    Task<IngestFailurePage> FailuresAsync(long offset, int limit);

    /// <exception cref="InvalidOperationException">The job is finished or was never started.</exception>
    [Alias("Cancel")]
    Task<IngestJobStatus> CancelAsync();

    [Alias("Pause")]
    Task<IngestJobStatus> PauseAsync();

    [Alias("Resume")]
    Task<IngestJobStatus> ResumeAsync();

    /// <summary>A batch for the worker, or null when none can be handed out now.</summary>
    /// <param name="silo">The worker's silo, shown in the job's status (where its batches are in flight).</param>
    [Alias("Lease")]
    Task<IngestLease?> LeaseAsync(string workerKey, string silo);

    [Alias("Renew")]
    Task<LeaseRenewal> RenewAsync(long batchId, Guid leaseId);

    /// <summary>A worker's report; a batch counts once, whichever lease delivers it first.</summary>
    [Alias("Complete")]
    Task CompleteAsync(IngestBatchResult result);

    /// <summary>A worker gave the batch back without finishing it (stopping, or it lost its silo's resources).</summary>
    [Alias("Release")]
    Task ReleaseAsync(long batchId, Guid leaseId);

    /// <summary>Makes sure the job is active and driving its workers (after a restart of the cluster).</summary>
    [Alias("Wake")]
    Task WakeAsync();
}

/// <summary>
/// An encoder worker of one job (key: "jobId/n"), placed only on silos with the encoder role. It leases
/// batches from its job while its silo has room for another batch in flight.
/// </summary>
[Alias("objret.IIngestWorkerGrain")]
public interface IIngestWorkerGrain : IGrainWithStringKey
{
    /// <summary>Starts the lease loop if it is not running. Returns at once.</summary>
    [AlwaysInterleave, Alias("Wake")]
    Task WakeAsync();

    /// <summary>Stops work on the batch in hand (cancel or pause of the job).</summary>
    [AlwaysInterleave, Alias("Abort")]
    Task AbortAsync(long batchId);
}

/// <summary>One page of a job's failure records (key: "jobId/page"), so failures never grow the job's own state.</summary>
[Alias("objret.IIngestFailurePageGrain")]
public interface IIngestFailurePageGrain : IGrainWithStringKey
{
    /// <summary>Writes records at positions within the page, dropping anything after them (idempotent when a batch is retried).</summary>
    [Alias("Write")]
    Task WriteAsync(int offset, IReadOnlyList<IngestFailure> failures);

    [AlwaysInterleave, Alias("Read")]
    Task<IReadOnlyList<IngestFailure>> ReadAsync(int offset, int count);
}

/// <summary>The jobs not yet finished (singleton key "active"), so a restarted cluster wakes them.</summary>
[Alias("objret.IIngestJobRegistryGrain")]
public interface IIngestJobRegistryGrain : IGrainWithStringKey
{
    public const string Key = "active";

    [Alias("Add")]
    Task AddAsync(string jobId);

    [Alias("Remove")]
    Task RemoveAsync(string jobId);

    [AlwaysInterleave, Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();

    /// <summary>Wakes every active job.</summary>
    [Alias("WakeAll")]
    Task WakeAllAsync();
}

/// <summary>Names and ids shared by ingest's pieces.</summary>
public static class IngestNames
{
    /// <summary>Grain storage provider of jobs, failure pages and the registry.</summary>
    public const string StorageProvider = "ingest";

    /// <summary>Representation metadata: the source version the image was encoded from, and the job that encoded it.</summary>
    public const string VersionMetadata = "source.version";

    public const string JobMetadata = "ingest.job";

    public const int FailurePageSize = 1000;

    /// <summary>The image id of a blob: account/container/name, stable across runs and machines.</summary>
    public static string BlobImageId(string account, string container, string blobName) => $"{account}/{container}/{blobName}";

    /// <summary>The image id of a file of a directory job: "file/" and its path relative to the job's directory.</summary>
    public static string FileImageId(string relativePath) => "file/" + relativePath.Replace('\\', '/');

    public static string WorkerKey(string jobId, int worker) => $"{jobId}/{worker}";

    public static string FailurePageKey(string jobId, long page) => $"{jobId}/{page}";

    public static bool IsValidJobId(string? id) => id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
