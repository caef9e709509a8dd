using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ObjectRetrieval.Testing;

/// <summary>
/// <c>objret</c> as a real child process (<c>dotnet objret.dll ...</c>): its output is collected, and
/// <see cref="WaitUntilReadyAsync"/> waits for the "ready: URL roles=..." line it prints once serving.
/// </summary>
public sealed partial class ObjretProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ObjretProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public int Id => _process.Id;

    /// <summary>What the test calls this process in its messages.</summary>
    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process wrote so far (stdout and stderr, interleaved as received).</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>The key a demo or cluster printed ("api key: objret_..."), once it is ready.</summary>
    public string ApiKey => ApiKeyLine().Match(Output) is { Success: true } m
        ? m.Groups["key"].Value
        : throw new InvalidOperationException($"{Name} printed no API key. Its output:{Environment.NewLine}{Output}");

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Tail => string.Join(Environment.NewLine, _output.TakeLast(30));

    /// <summary>`objret serve` with <paramref name="configuration"/> written as JSON to <paramref name="configFile"/>.</summary>
    public static ObjretProcess StartServe(string configFile, object configuration, string name = "objret serve")
    {
        File.WriteAllText(configFile, JsonSerializer.Serialize(configuration));
        return Start(["serve", "--config", configFile], name: name);
    }

    public static ObjretProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string name = "objret")
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ObjretDll);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ObjretProcess(process, name);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Exited += (_, _) => child._ready.TrySetException(new InvalidOperationException($"{name} exited before it was ready."));
        if (!process.Start()) throw new InvalidOperationException("Could not start dotnet.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        Match ready = ReadyLine().Match(line);
        if (ready.Success) _ready.TrySetResult(new Uri(ready.Groups["url"].Value));
    }

    /// <summary>The process's HTTP address, once it printed its ready line; fails with its output when it exits or the deadline passes.</summary>
    public async Task<Uri> WaitUntilReadyAsync(TimeSpan deadline)
    {
        try
        {
            return await _ready.Task.WaitAsync(deadline);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{Name} was not ready ({e.Message}). Its output:{Environment.NewLine}{Output}", e);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as when a machine or container dies.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a pod; returns the exit code, or null when the process is still running at the deadline.</summary>
    public async Task<int?> TerminateAsync(TimeSpan deadline)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Waits for the process to end by itself; fails with its output at the deadline.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException e)
        {
            throw new TimeoutException($"{Name} still runs after {deadline}. Its output:{Environment.NewLine}{Output}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }

    /// <summary>The CLI built in the same configuration as these tests (the project reference builds it first).</summary>
    private static string ObjretDll { get; } = FindObjret();

    private static string FindObjret()
    {
        string testDirectory = AppContext.BaseDirectory;
        string configuration = testDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        for (DirectoryInfo? directory = new(testDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "src", "ObjectRetrieval.Cli", "bin", configuration, "net10.0", "linux-x64", "objret.dll");
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException($"objret.dll ({configuration}) was not found above {testDirectory}; build src/ObjectRetrieval.Cli.");
    }

    [GeneratedRegex(@"^api key: (?<key>objret_\S+)", RegexOptions.Multiline)]
    private static partial Regex ApiKeyLine();

    [GeneratedRegex(@"^ready: (?<url>https?://\S+) roles=")]
    private static partial Regex ReadyLine();
}
