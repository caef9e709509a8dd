using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Testing;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>The ingest tests' waits: on a job's state, through <see cref="Eventually"/>.</summary>
public static class Waiting
{
    public static readonly TimeSpan JobDeadline = TimeSpan.FromMinutes(3);

    public static Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan deadline, string what) =>
        Eventually.UntilAsync(read, done, deadline, what);

    public static Task<IngestJobStatus> UntilFinishedAsync(IIngestJobGrain job) =>
        UntilAsync(async () => (await job.StatusAsync())!, s => s.IsFinished, JobDeadline, "the job to finish");
}
