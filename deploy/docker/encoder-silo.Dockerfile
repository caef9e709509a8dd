# Encoder silo image: ONNX Runtime's CUDA execution provider needs the CUDA 13 runtime libraries and cuDNN 9,
# so the base is NVIDIA's CUDA runtime image; the ASP.NET Core runtime is copied from Microsoft's image.
# Build from the repository root:
#   docker build -f deploy/docker/encoder-silo.Dockerfile -t <registry>/object-retrieval-encoder-silo:<tag> .
# Without a GPU (or without the NVIDIA container runtime) the process logs the fallback and runs on the CPU.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG HOST_PROJECT=src/ObjectRetrieval.Cli/ObjectRetrieval.Cli.csproj
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ObjectRetrieval.sln ./
COPY src/ src/
RUN dotnet restore "$HOST_PROJECT" -r linux-x64
RUN dotnet publish "$HOST_PROJECT" -c Release -r linux-x64 --self-contained false --no-restore -o /app \
    && rm -rf /app/runtimes/win* /app/runtimes/osx*

# The ASP.NET Core shared runtime built for the same Ubuntu release as the CUDA image.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS dotnet

FROM nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04 AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3t64 tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1654 app \
    && useradd --uid 1654 --gid 1654 --no-create-home --shell /usr/sbin/nologin app
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 \
    ObjectRetrieval__HttpUrl=http://+:8080 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=build --chown=root:root /app ./
USER 1654:1654
EXPOSE 8080 11111 30000
ENTRYPOINT ["./objret", "serve"]
