using ObjectRetrieval.Abstractions.Ingest;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>Waits on conditions with a deadline: polls state, never sleeps a guessed time before asserting.</summary>
public static class Waiting
{
    public static readonly TimeSpan JobDeadline = TimeSpan.FromMinutes(3);

    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan deadline, string what)
    {
        using var timeout = new CancellationTokenSource(deadline);
        T last = await read();
        while (!done(last))
        {
            try
            {
                // A short pause between reads of remote state; the outcome is decided by the condition, not by the pause.
                await Task.Delay(100, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Waited {deadline} for {what}; last seen: {last}");
            }

            last = await read();
        }

        return last;
    }

    public static Task<IngestJobStatus> UntilFinishedAsync(IIngestJobGrain job) =>
        UntilAsync(async () => (await job.StatusAsync())!, s => s.IsFinished, JobDeadline, "the job to finish");
}
