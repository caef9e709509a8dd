using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Silo;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret serve --config FILE</c>: one process of the cluster with the roles, ports and storage its configuration
/// names. Environment variables override the file (<c>ObjectRetrieval__Cluster__SiloPort=11112</c>,
/// <c>Orleans__...</c> for Orleans' own settings), so one file serves every replica.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config")
        {
            Description = "JSON configuration (sections ObjectRetrieval, Gateway, Shards, Logging; see deploy/config). Environment variables ObjectRetrieval__..., Orleans__... override it.",
        };
        var command = new Command("serve", "Run one process of the cluster (silo, gateway or both) as configured, until Ctrl+C or SIGTERM.") { config };

        // Synchronous on purpose: the host's console lifetime handles Ctrl+C and SIGTERM with a graceful stop,
        // which the CLI's own termination handler would otherwise cut short after its timeout.
        command.SetAction(result =>
        {
            try
            {
                IConfiguration configuration = Load(result.GetValue(config));
                WebApplication app = ObjectRetrievalHost.Build(configuration);
                app.RunUntilStoppedAsync(Console.Out).GetAwaiter().GetResult();
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is OptionsValidationException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
                or ArgumentException or FormatException or Encoding.Models.ModelPackageException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }

    /// <summary>The file (when given), then the environment on top.</summary>
    public static IConfiguration Load(FileInfo? file)
    {
        var builder = new ConfigurationBuilder();
        if (file is not null)
        {
            if (!file.Exists) throw new FileNotFoundException($"Configuration file {file.FullName} does not exist.");
            builder.AddJsonFile(file.FullName, optional: false, reloadOnChange: false);
        }

        return builder.AddEnvironmentVariables().Build();
    }
}
