namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>
/// Environment variable names the chart and the plain manifests set, as the process host binds them
/// (section "ObjectRetrieval", ObjectRetrieval.Silo.ObjectRetrievalOptions). deploy/README.md lists them.
/// </summary>
public static class Conventions
{
    public const string Role = "ObjectRetrieval__Roles__0";
    public const string HttpUrl = "ObjectRetrieval__HttpUrl";
    public const string ClusterMode = "ObjectRetrieval__Cluster__Mode";
    public const string ClusterId = "ObjectRetrieval__Cluster__ClusterId";
    public const string ServiceId = "ObjectRetrieval__Cluster__ServiceId";
    public const string AzureTableConnectionString = "ObjectRetrieval__Cluster__AzureTableConnectionString";
    public const string AdvertisedAddress = "ObjectRetrieval__Cluster__AdvertisedAddress";
    public const string SiloPort = "ObjectRetrieval__Cluster__SiloPort";
    public const string GatewayPort = "ObjectRetrieval__Cluster__GatewayPort";
    public const string StorageKind = "ObjectRetrieval__Storage__Kind";
    public const string BlobConnectionString = "ObjectRetrieval__Storage__BlobConnectionString";
    public const string BlobContainer = "ObjectRetrieval__Storage__BlobContainer";
    public const string ModelDirectory = "ObjectRetrieval__ModelDirectory";
}
