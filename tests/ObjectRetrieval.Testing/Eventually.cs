namespace ObjectRetrieval.Testing;

/// <summary>Waits on a condition with a deadline: polls state, never sleeps a guessed time before asserting.</summary>
public static class Eventually
{
    /// <summary>Reads until <paramref name="done"/> holds and returns that reading; past the deadline, a timeout naming what was awaited and the last reading.</summary>
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
}
