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

/// <summary>
/// One progress bar on standard error: an updating line on a terminal, a line every few seconds when
/// the output goes to a file or a CI log. Every long-running command draws through it.
/// </summary>
internal sealed class ProgressBar
{
    private const int Width = 30;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private long _lastReportMs = -10_000;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Draws the bar unless one was drawn moments ago; <paramref name="final"/> always draws and ends the line.</summary>
    public void Draw(string label, long done, long total, string totalText, double ratePerSecond, double? etaSeconds, string? suffix, bool final)
    {
        lock (_gate)
        {
            long now = _clock.ElapsedMilliseconds;
            bool interactive = !Console.IsErrorRedirected;
            if (!final && now - _lastReportMs < (interactive ? 200 : 5000)) return;
            _lastReportMs = now;
            int filled = total <= 0 ? 0 : (int)Math.Min(Width, done * Width / total);
            string eta = etaSeconds is { } e ? $"ETA {e:F0}s" : "ETA ?";
            string line = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{label} [{new string('#', filled)}{new string('.', Width - filled)}] {done}/{totalText} {ratePerSecond:F0}/s {eta}{(suffix is null ? "" : " " + suffix)}");
            if (interactive)
            {
                Console.Error.Write("\r" + line.PadRight(100));
                if (final) Console.Error.WriteLine();
            }
            else
            {
                Console.Error.WriteLine(line);
            }
        }
    }
}

/// <summary>Progress of a known amount of local work, as <see cref="IProgress{T}"/> of items done.</summary>
internal sealed class ConsoleProgress(string label, int total) : IProgress<int>
{
    private readonly ProgressBar _bar = new();

    public void Report(int done)
    {
        double rate = done / Math.Max(_bar.Elapsed.TotalSeconds, 1e-3);
        double eta = rate > 0 ? (total - done) / rate : 0;
        _bar.Draw(label, done, total, total.ToString(System.Globalization.CultureInfo.InvariantCulture), rate, eta, suffix: null, final: done >= total);
    }
}
