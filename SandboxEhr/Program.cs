using System.Text.Json;
using SandboxEhr.Auth;
using SandboxEhr.Fhir;
using SandboxEhr.Hooks;
using SandboxEhr.Hospitals;

var builder = WebApplication.CreateBuilder(args);

// Per-request logs would cost more than the requests themselves under the sync benchmarks.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

builder.Services.ConfigureHttpJsonOptions(options =>
    options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
builder.Services.AddSingleton(TimeProvider.System);
var dataOptions = HospitalCatalog.DataOptions(builder.Configuration);
builder.Services.AddSingleton(_ => HospitalCatalog.Build(dataOptions));
builder.Services.AddSandboxAuth(builder.Configuration);

var app = builder.Build();

// Generate every hospital before listening: once GET /hospitals answers, the data is all there.
var registry = app.Services.GetRequiredService<HospitalRegistry>();
app.Logger.LogInformation("Sandbox EHR: {Hospitals}",
    string.Join(", ", registry.All.Select(h => $"{h.Info.Id} ({h.Info.VendorProfile}, {h.Patients.List().Count} patients)")));

app.MapHooksApi();
app.MapAuthApi();
app.MapFhirApi();

app.Run();
