using System.Text.Json;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Hooks;

public sealed record HospitalView(string Id, string Name, string VendorProfile, string FhirBaseUrl, string City, string State, string Zip);

public sealed record PatientView(string Id, string Name, string BirthDate, IReadOnlyDictionary<string, int> ResourceCounts);

/// <summary>Test hooks (sandbox only, no auth): list hospitals and patients, read and change run-time settings.</summary>
public static class HooksApi
{
    public static IEndpointRouteBuilder MapHooksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/hospitals", (HospitalRegistry hospitals, HttpRequest request) =>
            hospitals.All.Select(h => new HospitalView(
                h.Info.Id, h.Info.Name, h.Info.VendorProfile, h.FhirBase(request), h.Info.City, h.Info.State, h.Info.Zip)));

        var hospital = app.MapGroup("/hospitals/{hospitalId}");
        hospital.MapGet("/patients", (string hospitalId, HospitalRegistry hospitals) =>
            hospitals.Find(hospitalId) is not { } h
                ? Results.NotFound()
                : Results.Json(h.Patients.List()
                    .Select(p => new PatientView(p.Id, p.Name, p.BirthDate, h.Patients.ResourceCounts(p.Id)))));
        hospital.MapGet("/settings", (string hospitalId, HospitalRegistry hospitals) =>
            hospitals.Find(hospitalId) is not { } h ? Results.NotFound() : Results.Json(h.Settings));
        hospital.MapPut("/settings", ChangeSettings);
        // Read-only counters for tests (e.g. "N concurrent triggers cause one refresh call").
        hospital.MapGet("/stats", (string hospitalId, HospitalRegistry hospitals) =>
            hospitals.Find(hospitalId) is not { } h
                ? Results.NotFound()
                : Results.Json(new
                {
                    refresh_requests = h.RefreshRequests,
                    revocation_requests = h.RevocationRequests,
                    fhir_requests = h.FhirRequests,
                    fhir_requests_by_second = h.FhirRequestsBySecond(),
                }));
        // Live tokens of the hospital: after a revocation (RFC 7009) the revoked authorization's are gone.
        hospital.MapGet("/tokens", (string hospitalId, HospitalRegistry hospitals, SandboxEhr.Auth.AuthStore store) =>
        {
            if (hospitals.Find(hospitalId) is null)
                return Results.NotFound();
            var (access, refresh) = store.LiveTokens(hospitalId);
            return Results.Json(new { access_tokens = access, refresh_tokens = refresh });
        });
        hospital.MapDelete("/settings", (string hospitalId, HospitalRegistry hospitals) =>
        {
            if (hospitals.Find(hospitalId) is not { } h)
                return Results.NotFound();
            h.ReplaceSettings(h.Defaults);
            return Results.Json(h.Settings);
        });
        return app;
    }

    private static async Task<IResult> ChangeSettings(string hospitalId, HttpRequest request, HospitalRegistry hospitals)
    {
        if (hospitals.Find(hospitalId) is not { } hospital)
            return Results.NotFound();
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return Problem($"The body is not JSON: {e.Message}");
        }

        using (body)
        {
            var (settings, errors) = SettingsPatch.Apply(hospital.Settings, body.RootElement);
            if (errors.Count > 0)
                return Results.ValidationProblem(errors, title: "Invalid settings");
            hospital.ReplaceSettings(settings);
            return Results.Json(settings);
        }
    }

    private static IResult Problem(string detail) => Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid settings");
}
