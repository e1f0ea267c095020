# One image recipe for the three programs; the build argument PROJECT picks which:
#   docker build --build-arg PROJECT=Silo .        (PatientConnect.Silo, also the one-shot migrate)
#   docker build --build-arg PROJECT=Api .         (PatientConnect.Api)
#   docker build --build-arg PROJECT=SandboxEhr .  (the sandbox EHR)
ARG PROJECT=Silo

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG PROJECT
WORKDIR /src
# Restore first, from the project files alone, so a code change does not re-download packages.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY Grains.Interfaces/Grains.Interfaces.csproj Grains.Interfaces/
COPY Grains/Grains.csproj Grains/
COPY ServiceDefaults/ServiceDefaults.csproj ServiceDefaults/
COPY Silo/Silo.csproj Silo/
COPY Api/Api.csproj Api/
COPY SandboxEhr/SandboxEhr.csproj SandboxEhr/
RUN dotnet restore "${PROJECT}/${PROJECT}.csproj"
COPY Grains.Interfaces/ Grains.Interfaces/
COPY Grains/ Grains/
COPY ServiceDefaults/ ServiceDefaults/
COPY Silo/ Silo/
COPY Api/ Api/
COPY SandboxEhr/ SandboxEhr/
COPY data/ data/
RUN dotnet publish "${PROJECT}/${PROJECT}.csproj" -c Release --no-restore -o /app -nologo \
 && cd /app && set -- *.runtimeconfig.json && echo "${1%.runtimeconfig.json}" > /app/.entry

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY config/ ./config/
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    ASPNETCORE_ENVIRONMENT=Production
# The entry assembly was recorded at publish time, so one Dockerfile serves every program;
# arguments (command: in compose) follow it.
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"/app/$(cat /app/.entry).dll\" \"$@\"", "entrypoint"]
