namespace ObjectRetrieval.Grains.Ingest;

/// <summary>How ingest jobs and their workers behave: the "Ingest" configuration section.</summary>
public sealed class IngestSettings
{
    public const string SectionName = "Ingest";

    /// <summary>The storage account blob jobs read from; blob jobs are refused when unset.</summary>
    public string? BlobConnectionString { get; set; }

    /// <summary>How long a worker holds a batch without renewing before the batch is handed out again.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a job expires leases, lists ahead, wakes its workers and saves its state.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Worker grains per job, spread over the encoder silos; more than the silos' batch slots keeps every slot busy.</summary>
    public int WorkersPerJob { get; set; } = 8;

    /// <summary>Batches one encoder silo works on at once, over all jobs: the backpressure bound.</summary>
    public int MaxBatchesPerSilo { get; set; } = 2;

    /// <summary>Batches a job keeps listed ahead (queued plus in flight): bounds the job's state.</summary>
    public int MaxPendingBatches { get; set; } = 16;

    /// <summary>Images one encoder silo downloads or encodes at once: bounds download parallelism and the bytes held in memory.</summary>
    public int MaxImagesInFlight { get; set; } = 64;

    /// <summary>How long one image may take to read, decode and encode before the attempt is abandoned.</summary>
    public TimeSpan ImageTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Attempts at an image whose encoding fails for an unexpected reason before it is recorded as poison.</summary>
    public int PoisonAttempts { get; set; } = 3;

    /// <summary>
    /// Leases of an image on its own that may be lost with their process (expired, never renewed) before the image
    /// is recorded as poison and never handed out again: an image that kills its encoder process.
    /// </summary>
    public int LostProcessAttempts { get; set; } = 2;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        string p = SectionName;
        if (LeaseDuration < TimeSpan.FromSeconds(1)) problems.Add($"{p}:LeaseDuration must be at least one second.");
        if (TickInterval <= TimeSpan.Zero) problems.Add($"{p}:TickInterval must be positive.");
        if (WorkersPerJob < 1) problems.Add($"{p}:WorkersPerJob must be at least 1.");
        if (MaxBatchesPerSilo < 1) problems.Add($"{p}:MaxBatchesPerSilo must be at least 1.");
        if (MaxPendingBatches < 2) problems.Add($"{p}:MaxPendingBatches must be at least 2.");
        if (MaxImagesInFlight < 1) problems.Add($"{p}:MaxImagesInFlight must be at least 1.");
        if (ImageTimeout <= TimeSpan.Zero) problems.Add($"{p}:ImageTimeout must be positive.");
        if (PoisonAttempts < 1) problems.Add($"{p}:PoisonAttempts must be at least 1.");
        if (LostProcessAttempts < 1) problems.Add($"{p}:LostProcessAttempts must be at least 1.");
        return problems;
    }
}

/// <summary>One encoder silo's bounds over all its workers: batches in flight, and images between download and encoded.</summary>
public sealed class IngestSiloThrottle(Microsoft.Extensions.Options.IOptions<IngestSettings> settings)
{
    private readonly SemaphoreSlim _batches = new(settings.Value.MaxBatchesPerSilo);

    private readonly SemaphoreSlim _images = new(settings.Value.MaxImagesInFlight);

    public int BatchesInFlight => settings.Value.MaxBatchesPerSilo - _batches.CurrentCount;

    public async Task<IDisposable> BatchSlotAsync(CancellationToken cancellationToken)
    {
        await _batches.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(_batches);
    }

    public async Task<IDisposable> ImageSlotAsync(CancellationToken cancellationToken)
    {
        await _images.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(_images);
    }

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }
}
