using System.CommandLine;
using ObjectRetrieval.Cli.Commands;

var root = new RootCommand("objret — find the images that contain an object named by a free-text query.");
foreach (Command command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
