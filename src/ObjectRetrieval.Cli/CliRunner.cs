using System.CommandLine;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Cli;

/// <summary>Exit codes of every command.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;

    /// <summary>The input or configuration was wrong: a missing file, bad data, an invalid option value.</summary>
    public const int BadInput = 2;

    public const int Cancelled = 130;
}

/// <summary>Runs a command body and turns the expected kinds of failure into a one-line message and an exit code.</summary>
internal static class CliRunner
{
    public static void SetHandler(this Command command, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (result, ct) =>
        {
            try
            {
                return await body(result, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("cancelled.");
                return ExitCodes.Cancelled;
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                or ArgumentException or InvalidEmbeddingException or CorruptRepresentationException or FormatException
                or Encoding.Models.ModelPackageException or Encoding.Imaging.ImageDecodeException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });

    public static void SetHandler(this Command command, Func<ParseResult, CancellationToken, int> body) =>
        command.SetHandler((result, ct) => Task.FromResult(body(result, ct)));
}

/// <summary>Progress of long work on standard error: an updating line on a terminal, a line every few seconds otherwise.</summary>
internal sealed class ConsoleProgress(string label, int total) : IProgress<int>
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _lastReportMs = -10_000;
    private readonly Lock _gate = new();

    public void Report(int done)
    {
        lock (_gate)
        {
            long now = _clock.ElapsedMilliseconds;
            bool interactive = !Console.IsErrorRedirected;
            if (done < total && now - _lastReportMs < (interactive ? 200 : 5000)) return;
            _lastReportMs = now;
            double rate = done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            double eta = rate > 0 ? (total - done) / rate : 0;
            int width = 30;
            int filled = total == 0 ? width : (int)((long)done * width / total);
            string line = $"{label} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} {rate:F0}/s ETA {eta:F0}s";
            if (interactive)
            {
                Console.Error.Write("\r" + line);
                if (done >= total) Console.Error.WriteLine();
            }
            else
            {
                Console.Error.WriteLine(line);
            }
        }
    }
}
