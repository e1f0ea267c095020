using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Primitives;
using SandboxEhr.Auth;
using SandboxEhr.Data;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Fhir;

/// <summary>
/// The read-only FHIR R4 API of each hospital, <c>/hospitals/{id}/fhir</c>: metadata, read and search
/// in the patient compartment, enforced like a real EHR (bearer token, scopes, the token's patient,
/// vendor quirks) and disturbed on purpose by the hospital's settings (latency, errors, rate limits, forced
/// refusals, next links elsewhere).
/// </summary>
public static class FhirApi
{
    private sealed record Admitted(Hospital Hospital, VendorProfile Profile, AccessGrant Grant, string FhirBase, string Type);

    public static IEndpointRouteBuilder MapFhirApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/hospitals/{hospitalId}/fhir");
        group.MapGet("metadata", (RequestDelegate)Metadata);
        group.MapGet("{type}", (RequestDelegate)Search);
        group.MapGet("{type}/{id}", (RequestDelegate)Read);
        return app;
    }

    private static Task Metadata(HttpContext context)
    {
        var hospital = FindHospital(context);
        if (hospital is null)
            return UnknownHospital(context);
        var json = CapabilityStatementBuilder.Build(hospital, context.Request);
        return FhirResponses.WriteJson(context, 200, json);
    }

    private static async Task Read(HttpContext context)
    {
        var admitted = await Admit(context, FhirScopes.Interaction.Read);
        if (admitted is null)
            return;
        var id = (string)context.Request.RouteValues["id"]!;
        var resource = admitted.Hospital.Patients.Find(admitted.Type, id);
        if (resource is null)
        {
            await FhirResponses.WriteOutcome(context, 404, "not-found", $"Resource {admitted.Type}/{id} is not known");
            return;
        }
        if (resource.PatientId is not null && resource.PatientId != admitted.Grant.PatientId)
        {
            await FhirResponses.WriteOutcome(context, 403, "forbidden",
                $"{admitted.Type}/{id} belongs to another patient than the one this token was issued for");
            return;
        }
        if (resource.Content is not null && !WantsFhirJson(context.Request))
        {
            // Binary: the raw document, as EHRs serve attachments to clients that do not ask for FHIR.
            context.Response.StatusCode = 200;
            context.Response.ContentType = resource.ContentType ?? "application/octet-stream";
            context.Response.ContentLength = resource.Content.Length;
            await context.Response.Body.WriteAsync(resource.Content, context.RequestAborted);
            return;
        }
        await FhirResponses.WriteJson(context, 200, resource.Json);
    }

    private static async Task Search(HttpContext context)
    {
        var admitted = await Admit(context, FhirScopes.Interaction.Search);
        if (admitted is null)
            return;
        var (hospital, profile, grant, fhirBase, type) = admitted;
        if (SearchParameters.For(type).Count == 0)
        {
            await FhirResponses.WriteOutcome(context, 400, "not-supported", $"{type} cannot be searched; read {type}/<id>");
            return;
        }

        IReadOnlyList<KeyValuePair<string, string>> parameters;
        var offset = 0;
        int? tokenCount = null;
        if (context.Request.Query.TryGetValue("_page_token", out var tokenValue))
        {
            var token = PageToken.Decode(tokenValue.ToString());
            if (token is null || token.HospitalId != hospital.Info.Id || token.Type != type)
            {
                await FhirResponses.WriteOutcome(context, 400, "invalid", "The page token is not valid for this search");
                return;
            }
            parameters = token.Parameters;
            offset = token.Offset;
            tokenCount = token.Count;
        }
        else
        {
            parameters = context.Request.Query
                .Where(q => q.Key != "_page_token")
                .SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v ?? "")))
                .ToList();
        }

        var strict = profile.StrictSearchParameters || PrefersStrictHandling(context.Request);
        var parsed = SearchCriteria.Parse(type, parameters, profile, strict);
        if (parsed.Criteria is not { } criteria)
        {
            await FhirResponses.WriteOutcome(context, parsed.Status, parsed.Error!.StartsWith("Unknown", StringComparison.Ordinal) ? "not-supported" : "invalid", parsed.Error!);
            return;
        }

        IEnumerable<StoredResource> candidates;
        if (profile.ServesCompartment(type))
        {
            var named = type == "Patient" ? criteria.IdFilter : criteria.Patients;
            if (named.FirstOrDefault(p => p != grant.PatientId) is { } other)
            {
                await FhirResponses.WriteOutcome(context, 403, "forbidden",
                    $"Patient {other} is not the patient this token was issued for");
                return;
            }
            // Like real EHRs in a patient launch, a search without a patient stays in the token's compartment.
            candidates = hospital.Patients.Compartment(grant.PatientId, type);
        }
        else
        {
            if (!criteria.HasId)
            {
                await FhirResponses.WriteOutcome(context, 400, "not-supported", $"{type} searches need _id");
                return;
            }
            candidates = criteria.IdFilter.Select(id => hospital.Patients.Find(type, id)).OfType<StoredResource>();
        }
        var matches = candidates.Where(criteria.Matches).ToList();

        var settings = hospital.Settings;
        var max = settings.PageSize ?? profile.MaxPageSize;
        var size = Math.Max(0, Math.Min(tokenCount ?? criteria.Count ?? settings.PageSize ?? profile.DefaultPageSize, max));
        var page = matches.Skip(offset).Take(size).ToList();

        string? next = null;
        if (size > 0 && offset + size < matches.Count)
        {
            var kept = parameters.Where(p => p.Key != "_count").ToList();
            // next_link_base moves only the next link (a server behind a misconfigured proxy, or a hostile one).
            next = $"{settings.NextLinkBase ?? fhirBase}/{type}?_page_token={new PageToken(hospital.Info.Id, type, kept, offset + size, size).Encode()}";
        }

        var included = new List<StoredResource>();
        if (criteria.IncludeMedication && FhirScopes.Allows(grant.Scopes, "Medication", FhirScopes.Interaction.Read))
        {
            foreach (var medicationId in page.Select(r => r.MedicationId).OfType<string>().Distinct(StringComparer.Ordinal))
                if (hospital.Patients.Find("Medication", medicationId) is { } medication)
                    included.Add(medication);
        }

        var self = $"{fhirBase}/{type}{context.Request.QueryString}";
        await WriteSearchset(context, fhirBase, self, next, matches.Count, page, included, criteria.Ignored);
    }

    private static async Task WriteSearchset(HttpContext context, string fhirBase, string self, string? next, int total,
        List<StoredResource> page, List<StoredResource> included, List<string> ignored)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = FhirResponses.ContentType;
        var body = context.Response.BodyWriter;
        await using (var writer = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("resourceType", "Bundle");
            writer.WriteString("id", Guid.NewGuid().ToString());
            writer.WriteStartObject("meta");
            writer.WriteString("lastUpdated", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"));
            writer.WriteEndObject();
            writer.WriteString("type", "searchset");
            writer.WriteNumber("total", total);
            writer.WriteStartArray("link");
            WriteLink(writer, "self", self);
            if (next is not null)
                WriteLink(writer, "next", next);
            writer.WriteEndArray();
            writer.WriteStartArray("entry");
            foreach (var resource in page)
                WriteEntry(writer, fhirBase, resource, "match");
            foreach (var resource in included)
                WriteEntry(writer, fhirBase, resource, "include");
            if (ignored.Count > 0)
            {
                // Lenient servers say what they left out, in an outcome entry (FHIR R4 3.1.1.4.3).
                writer.WriteStartObject();
                writer.WritePropertyName("resource");
                FhirResponses.WriteOutcome(writer, ignored.Select(p =>
                    ("warning", "not-supported", $"The search parameter '{p}' is not supported and was ignored")));
                writer.WriteStartObject("search");
                writer.WriteString("mode", "outcome");
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        await body.FlushAsync(context.RequestAborted);
    }

    private static void WriteLink(Utf8JsonWriter writer, string relation, string url)
    {
        writer.WriteStartObject();
        writer.WriteString("relation", relation);
        writer.WriteString("url", url);
        writer.WriteEndObject();
    }

    private static void WriteEntry(Utf8JsonWriter writer, string fhirBase, StoredResource resource, string mode)
    {
        writer.WriteStartObject();
        writer.WriteString("fullUrl", $"{fhirBase}/{resource.Type}/{resource.Id}");
        writer.WritePropertyName("resource");
        writer.WriteRawValue(resource.Json, skipInputValidation: true);
        writer.WriteStartObject("search");
        writer.WriteString("mode", mode);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Everything before the resource itself: hospital, the disturbance knobs, the bearer token, the
    /// type and the scope. Null when an answer has been written already.
    /// </summary>
    private static async Task<Admitted?> Admit(HttpContext context, FhirScopes.Interaction interaction)
    {
        var hospital = FindHospital(context);
        if (hospital is null)
        {
            await UnknownHospital(context);
            return null;
        }
        var fhirBase = hospital.FhirBase(context.Request);

        var settings = hospital.Settings;
        if (settings.LatencyMs > 0)
            await Task.Delay(settings.LatencyMs, context.RequestAborted);
        var number = hospital.NextRequestNumber();
        if (settings.RateLimitEveryN > 0 && number % settings.RateLimitEveryN == 0)
        {
            context.Response.Headers.RetryAfter = "1";
            await FhirResponses.WriteOutcome(context, 429, "throttled", "Too many requests; retry after 1 second");
            return null;
        }
        if (settings.ErrorRate > 0 && Random.Shared.NextDouble() < settings.ErrorRate)
        {
            var unavailable = Random.Shared.Next(2) == 0;
            await FhirResponses.WriteOutcome(context, unavailable ? 503 : 500, unavailable ? "transient" : "exception",
                unavailable ? "Service temporarily unavailable (sandbox error_rate)" : "Internal server error (sandbox error_rate)");
            return null;
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Length <= 7)
        {
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{fhirBase}\"";
            await FhirResponses.WriteOutcome(context, 401, "login", "A bearer access token is required");
            return null;
        }
        var validator = context.RequestServices.GetRequiredService<ITokenValidator>();
        var grant = validator.Validate(hospital.Info.Id, authorization[7..].Trim());
        if (grant is null)
        {
            context.Response.Headers.WWWAuthenticate =
                $"Bearer realm=\"{fhirBase}\", error=\"invalid_token\", error_description=\"The access token is invalid, expired or revoked\"";
            await FhirResponses.WriteOutcome(context, 401, "login", "The access token is invalid, expired or revoked");
            return null;
        }

        var type = (string)context.Request.RouteValues["type"]!;
        if (settings.ForcedFailure(type) is { } forced)
        {
            // After the token check, like a server that knows the caller and still refuses this one search.
            if (forced == 401)
                context.Response.Headers.WWWAuthenticate =
                    $"Bearer realm=\"{fhirBase}\", error=\"invalid_token\", error_description=\"Refused by the sandbox's fail_searches setting\"";
            await FhirResponses.WriteOutcome(context, forced, ForcedIssueCode(forced),
                $"Sandbox-forced failure (setting fail_searches): {type} requests answer {forced}");
            return null;
        }
        var profile = VendorProfile.For(hospital.Info.VendorProfile);
        if (!profile.Serves(type))
        {
            await FhirResponses.WriteOutcome(context, 404, "not-supported",
                $"Resource type '{type}' is not supported by this server");
            return null;
        }
        if (!FhirScopes.Allows(grant.Scopes, type, interaction))
        {
            await FhirResponses.WriteOutcome(context, 403, "forbidden",
                $"The access token's scopes do not allow {(interaction == FhirScopes.Interaction.Read ? "reading" : "searching")} {type}");
            return null;
        }
        return new Admitted(hospital, profile, grant, fhirBase, type);
    }

    private static string ForcedIssueCode(int status) => status switch
    {
        400 => "invalid",
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        _ => "exception",
    };

    private static Hospital? FindHospital(HttpContext context) =>
        context.RequestServices.GetRequiredService<HospitalRegistry>().Find((string)context.Request.RouteValues["hospitalId"]!);

    private static Task UnknownHospital(HttpContext context) =>
        FhirResponses.WriteOutcome(context, 404, "not-found", $"No hospital '{context.Request.RouteValues["hospitalId"]}'");

    /// <summary>Binary answers as a FHIR resource only to clients that ask for FHIR JSON.</summary>
    private static bool WantsFhirJson(HttpRequest request)
    {
        if (request.Query.TryGetValue("_format", out var format))
            return format.ToString() is "json" or "application/json" or "application/fhir+json";
        var accept = request.Headers.Accept.ToString();
        return accept.Contains("application/fhir+json", StringComparison.OrdinalIgnoreCase)
               || accept.Contains("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>RFC 7240 / FHIR: <c>Prefer: handling=strict</c> turns unknown parameters into errors.</summary>
    private static bool PrefersStrictHandling(HttpRequest request) =>
        request.Headers.TryGetValue("Prefer", out StringValues prefer)
        && prefer.Any(p => p?.Contains("handling=strict", StringComparison.OrdinalIgnoreCase) == true);
}
