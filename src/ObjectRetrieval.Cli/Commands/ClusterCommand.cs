using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;

using ObjectRetrieval.Gateway.Security;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret cluster up --silos N --model DIR</c>: a local multi-process cluster on loopback. Starts Azurite (blob and
/// table services, on free or given ports), N <c>objret serve</c> silo processes (index + encoder) with Azure Table
/// membership, and one gateway process; waits for every "ready:" line; on Ctrl+C stops everything it started.
/// </summary>
internal static class ClusterCommand
{
    // The emulator's published development account; not a secret.
    private const string DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static Command Create()
    {
        var silos = new Option<int>("--silos") { Description = "Silo processes (each index + encoder).", DefaultValueFactory = _ => 2 };
        var model = new Option<DirectoryInfo>("--model") { Description = "Model package folder.", Required = true };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Azurite's data and the generated configs (default: a fresh temp folder)." };
        var blobPort = new Option<int>("--blob-port") { Description = "Azurite blob port (0: a free one).", DefaultValueFactory = _ => 0 };
        var tablePort = new Option<int>("--table-port") { Description = "Azurite table port (0: a free one).", DefaultValueFactory = _ => 0 };
        var httpPort = new Option<int>("--http-port") { Description = "Gateway HTTP port.", DefaultValueFactory = _ => 5080 };
        var siloPort = new Option<int>("--silo-port") { Description = "First silo port; silo i uses it + i, its Orleans gateway port + 100 + i.", DefaultValueFactory = _ => 11111 };
        var azurite = new Option<DirectoryInfo?>("--azurite-bin") { Description = "Folder with azurite-blob and azurite-table (default: tests/tools/node_modules/.bin found upwards, then PATH)." };
        var up = new Command("up", "Start Azurite, N silo processes and a gateway on loopback; Ctrl+C stops them all.")
        {
            silos, model, data, blobPort, tablePort, httpPort, siloPort, azurite,
        };
        // Synchronous, with its own signal handling: the CLI's termination handler would end the process after a short
        // timeout, before every child is stopped.
        up.SetAction(r =>
        {
            using var stop = new CancellationTokenSource();
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            try
            {
                return UpAsync(r, stop.Token).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidOperationException or TimeoutException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return new Command("cluster", "A local multi-process cluster for development and tests.") { up };

        async Task<int> UpAsync(ParseResult r, CancellationToken ct)
        {
            int n = r.GetValue(silos);
            if (n is < 1 or > 32) throw new ArgumentException("--silos must be between 1 and 32.");
            DirectoryInfo modelDir = r.GetValue(model)!;
            if (!File.Exists(Path.Combine(modelDir.FullName, "model.json"))) throw new DirectoryNotFoundException($"{modelDir.FullName} holds no model.json.");
            string root = r.GetValue(data)?.FullName ?? Path.Combine(Path.GetTempPath(), "objret-cluster-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(root);
            string bin = r.GetValue(azurite)?.FullName ?? FindAzurite();
            int blob = r.GetValue(blobPort) is > 0 and var b ? b : EmbeddedHost.FreePort();
            int table = r.GetValue(tablePort) is > 0 and var t ? t : EmbeddedHost.FreePort();
            string blobConnection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevAccountKey};BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;";
            string tableConnection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevAccountKey};TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";

            await using var started = new Children();
            started.Start("azurite-blob", Path.Combine(bin, "azurite-blob"), ["--blobHost", "127.0.0.1", "--blobPort", Str(blob), "--location", Path.Combine(root, "azurite"), "--skipApiVersionCheck", "--silent"], null, AzuriteGrace);
            started.Start("azurite-table", Path.Combine(bin, "azurite-table"), ["--tableHost", "127.0.0.1", "--tablePort", Str(table), "--location", Path.Combine(root, "azurite"), "--skipApiVersionCheck", "--silent"], null, AzuriteGrace);
            await WaitListeningAsync(blob, ct);
            await WaitListeningAsync(table, ct);
            Console.WriteLine($"azurite: blob 127.0.0.1:{blob}, table 127.0.0.1:{table} ({root})");

            string clusterId = "objret-local-" + Guid.NewGuid().ToString("N")[..6];
            int firstSilo = r.GetValue(siloPort);
            var processes = new List<(string Name, Child Child)>();

            // One admin key for this local cluster; only its hash goes into the gateway's configuration file.
            string apiKey = ApiKey.New();
            for (int i = 0; i <= n; i++)
            {
                bool gateway = i == n;
                string name = gateway ? "gateway" : $"silo-{i}";
                string[] roles = gateway ? ["gateway"] : ["index", "encoder"];
                int http = gateway ? r.GetValue(httpPort) : EmbeddedHost.FreePort();
                string config = Path.Combine(root, name + ".json");
                File.WriteAllText(config, JsonSerializer.Serialize(new
                {
                    ObjectRetrieval = new
                    {
                        Roles = roles,
                        ModelDirectory = modelDir.FullName,
                        HttpUrl = $"http://127.0.0.1:{http}",
                        Cluster = new { Mode = "AzureTable", ClusterId = clusterId, ServiceId = "objret-local", AzureTableConnectionString = tableConnection, SiloPort = firstSilo + i, GatewayPort = firstSilo + 100 + i },
                        Storage = new { Kind = "Blob", BlobConnectionString = blobConnection, BlobContainer = "objret-indexes" },
                    },
                    Ingest = new { BlobConnectionString = blobConnection },
                    Gateway = new { ApiKeys = new[] { new { Name = "local-admin", Role = ApiRoles.Admin, Sha256 = ApiKey.HashHex(apiKey) } } },
                    Logging = new { LogLevel = new { Default = "Warning" } },
                }));
                processes.Add((name, started.Start(name, Environment.ProcessPath!, [.. SelfArguments(), "serve", "--config", config], "ready:")));
            }

            foreach ((string name, Child child) in processes)
            {
                Console.WriteLine($"{name}: {await child.Ready.WaitAsync(TimeSpan.FromMinutes(2), ct)}");
            }

            Console.WriteLine($"api key: {apiKey}  (role admin; send it as Authorization: Bearer KEY, or export {IngestCommand.ApiKeyVariable}=KEY for objret ingest)");

            // The same ready line as `objret serve`, so scripts and tests wait on one protocol.
            Console.WriteLine($"ready: http://127.0.0.1:{r.GetValue(httpPort)} roles=index,encoder,gateway");
            Console.WriteLine($"cluster up: {n} silos, gateway http://127.0.0.1:{r.GetValue(httpPort)}; ingest with: objret ingest --gateway http://127.0.0.1:{r.GetValue(httpPort)} --index NAME --container C. Ctrl+C stops everything.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("stopping...");
            }

            return ExitCodes.Success;
        }
    }

    /// <summary>A silo leaving the cluster cleanly hands its shards over; give it time.</summary>
    private static readonly TimeSpan SiloGrace = TimeSpan.FromSeconds(15);

    /// <summary>Azurite closes its servers on SIGTERM but its process may linger; what it stored is already on disk.</summary>
    private static readonly TimeSpan AzuriteGrace = TimeSpan.FromSeconds(2);

    /// <summary>Arguments that start this same program again: "objret.dll" when run through dotnet.</summary>
    private static string[] SelfArguments()
    {
        string? entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" && entry is not null ? [entry] : [];
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string FindAzurite()
    {
        for (DirectoryInfo? d = new(Environment.CurrentDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "tests", "tools", "node_modules", ".bin");
            if (File.Exists(Path.Combine(candidate, "azurite-blob"))) return candidate;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (File.Exists(Path.Combine(dir, "azurite-blob"))) return dir;
        }

        throw new FileNotFoundException("azurite-blob is not installed: run `npm ci` in tests/tools, or name the folder with --azurite-bin.");
    }


    private static async Task WaitListeningAsync(int port, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100, timeout.Token);
            }
        }
    }

    /// <summary>A started process whose output is echoed with its name; <see cref="Ready"/> completes on the first line starting with the marker.</summary>
    private sealed class Child(Process process, TimeSpan stopGrace)
    {
        public Process Process { get; } = process;

        /// <summary>How long SIGTERM may take before the process is killed.</summary>
        public TimeSpan StopGrace { get; } = stopGrace;

        public TaskCompletionSource<string> ReadySource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<string> Ready => ReadySource.Task;
    }

    /// <summary>Every process this command started; disposing stops them, newest first: SIGTERM, then kill after a grace period.</summary>
    private sealed class Children : IAsyncDisposable
    {
        private readonly List<Child> _children = [];

        public Child Start(string name, string file, IEnumerable<string> arguments, string? readyMarker, TimeSpan? stopGrace = null)
        {
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in arguments) start.ArgumentList.Add(argument);
            Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
            var child = new Child(process, stopGrace ?? SiloGrace);
            void Echo(string? line)
            {
                if (line is null) return;
                if (readyMarker is not null && line.StartsWith(readyMarker, StringComparison.Ordinal)) child.ReadySource.TrySetResult(line);
                Console.Error.WriteLine($"[{name}] {line}");
            }

            process.OutputDataReceived += (_, e) => Echo(e.Data);
            process.ErrorDataReceived += (_, e) => Echo(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _ = process.WaitForExitAsync().ContinueWith(_ => child.ReadySource.TrySetException(new InvalidOperationException($"{name} exited with code {process.ExitCode} before it was ready.")), TaskScheduler.Default);
            _children.Add(child);
            return child;
        }

        public async ValueTask DisposeAsync()
        {
            for (int i = _children.Count - 1; i >= 0; i--)
            {
                Process process = _children[i].Process;
                TimeSpan stopGrace = _children[i].StopGrace;
                if (!process.HasExited)
                {
                    // SIGTERM lets a silo leave the cluster cleanly; a child that does not stop in time is killed.
                    using (Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])) { }
                    using var grace = new CancellationTokenSource(stopGrace);
                    try
                    {
                        await process.WaitForExitAsync(grace.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        process.Kill(entireProcessTree: true);
                        await process.WaitForExitAsync();
                    }
                }

                process.Dispose();
            }
        }
    }
}
