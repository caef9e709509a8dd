namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>Locates the repository's deployment files from the test's output folder.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string Grafana => Path.Combine(Root, "deploy", "grafana");

    public static string KubernetesManifests => Path.Combine(Root, "deploy", "k8s");

    public static string MetricCatalogue => Path.Combine(Root, "deploy", "METRICS.md");

    public static string Chart => Path.Combine(Root, "helm", "object-retrieval");

    public static string ChartDashboards => Path.Combine(Chart, "dashboards");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ObjectRetrieval.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No ObjectRetrieval.sln above {AppContext.BaseDirectory}.");
    }
}
