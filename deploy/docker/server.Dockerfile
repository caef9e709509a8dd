# Gateway and index silo image (one binary; ObjectRetrieval__Roles__0 picks the role at run time).
# Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t <registry>/object-retrieval-gateway:<tag> .
#   docker build -f deploy/docker/server.Dockerfile -t <registry>/object-retrieval-index-silo:<tag> .
# The process host is published from src/ObjectRetrieval.Cli (`objret serve`); change HOST_PROJECT if it moves.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG HOST_PROJECT=src/ObjectRetrieval.Cli/ObjectRetrieval.Cli.csproj
WORKDIR /src
# Restore first, from the project files only, so that the package layer is cached across source edits.
COPY Directory.Build.props Directory.Packages.props ObjectRetrieval.sln ./
COPY src/ src/
RUN dotnet restore "$HOST_PROJECT" -r linux-x64
RUN dotnet publish "$HOST_PROJECT" -c Release -r linux-x64 --self-contained false --no-restore -o /app \
    && rm -rf /app/runtimes/win* /app/runtimes/osx*

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build --chown=root:root /app ./
# Non-root: the image's "app" user (UID 1654), matching the chart's runAsUser. The root file system is
# mounted read-only in Kubernetes; /tmp is an emptyDir.
USER $APP_UID
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    ObjectRetrieval__HttpUrl=http://+:8080
EXPOSE 8080 11111 30000
ENTRYPOINT ["./objret", "serve"]
