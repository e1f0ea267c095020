using Microsoft.AspNetCore.WebUtilities;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Auth;

/// <summary>
/// SMART App Launch 2.x authorize endpoint (GET and POST). A bad client or redirect URI gets an HTML error
/// page; any other invalid request is redirected back with the OAuth error; a valid one shows the login +
/// consent page, or, with <c>X-Sandbox-Consent</c>, is answered at once as if the form had been submitted.
/// </summary>
public static class AuthorizeEndpoint
{
    public const string ConsentHeader = "X-Sandbox-Consent";

    public static async Task<IResult> Handle(string hospitalId, HttpContext context, HospitalRegistry hospitals,
        ClientRegistry clients, AuthStore store)
    {
        var hospital = hospitals.Find(hospitalId);
        if (hospital is null)
            return ConsentPage.Error("Unknown hospital", $"There is no hospital '{hospitalId}'.", StatusCodes.Status404NotFound);

        var request = context.Request;
        var isForm = HttpMethods.IsPost(request.Method) && request.HasFormContentType;
        if (HttpMethods.IsPost(request.Method) && !isForm)
            return ConsentPage.Error("Invalid request", "POST the authorize request as application/x-www-form-urlencoded.");
        var form = isForm ? await request.ReadFormAsync(context.RequestAborted) : null;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ConsentPage.CarriedParameters)
        {
            var value = form is not null ? form[name].ToString() : request.Query[name].ToString();
            if (value.Length > 0)
                parameters[name] = value;
        }

        var client = clients.Find(parameters.GetValueOrDefault("client_id"));
        if (client is null)
            return ConsentPage.Error("Unknown application",
                "The application that sent you here is not registered with this hospital, so you were not sent back to it.");
        var redirectUri = parameters.GetValueOrDefault("redirect_uri");
        if (redirectUri is null || !client.AcceptsRedirect(redirectUri))
            return ConsentPage.Error("Invalid redirect URI",
                "The address the application asked to return to is not registered for it, so you were not sent there.");

        var state = parameters.GetValueOrDefault("state");
        IResult Fail(string error, string description) =>
            Redirect(redirectUri, new() { ["error"] = error, ["error_description"] = description, ["state"] = state });

        if (parameters.GetValueOrDefault("response_type") != "code")
            return Fail("unsupported_response_type", "response_type must be code");
        if (state is null)
            return Fail("invalid_request", "state is required");
        if (parameters.GetValueOrDefault("code_challenge") is not { } challenge)
            return Fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256");
        if (parameters.GetValueOrDefault("code_challenge_method") != "S256")
            return Fail("invalid_request", "code_challenge_method must be S256");
        if (challenge.Length is < 43 or > 128)
            return Fail("invalid_request", "code_challenge must be a base64url SHA-256 of the verifier");
        var fhirBase = hospital.FhirBase(request);
        if (parameters.GetValueOrDefault("aud")?.TrimEnd('/') != fhirBase)
            return Fail("invalid_request", $"aud must be the FHIR base {fhirBase}");
        var scopes = ScopePolicy.Grant(hospital, parameters.GetValueOrDefault("scope"));
        if (scopes.Count == 0)
            return Fail("invalid_scope", "no supported patient resource scope was requested");

        string decision;
        string? patientId = null;
        if (form is not null && form.ContainsKey("decision"))
        {
            decision = form["decision"].ToString();
            patientId = form["patient"].ToString();
        }
        else if (request.Headers[ConsentHeader].ToString() is { Length: > 0 } scripted)
        {
            (decision, patientId) = ParseScriptedConsent(scripted);
        }
        else
        {
            return ConsentPage.Render(hospital, $"{hospital.AuthBase(request)}/authorize", parameters, scopes);
        }

        if (decision == "deny")
            return Fail("access_denied", "the patient denied access");
        if (decision != "approve")
            return Fail("invalid_request", $"unknown consent decision '{decision}' (approve | deny)");

        if (string.IsNullOrEmpty(patientId))
            patientId = hospital.Patients.List().FirstOrDefault()?.Id;
        if (patientId is null || !hospital.Patients.Contains(patientId))
            return Fail("invalid_request", $"no patient '{patientId}' at {hospital.Info.Id}");

        var settings = hospital.Settings;
        var code = new AuthorizationCode(
            AuthStore.NewToken(), hospital.Info.Id, client.Id, redirectUri, challenge, scopes, patientId,
            parameters.GetValueOrDefault("nonce"), store.Now.AddSeconds(settings.AuthorizationCodeLifetimeSeconds));
        store.AddCode(code);
        return Redirect(redirectUri, new() { ["code"] = code.Code, ["state"] = state });
    }

    /// <summary>"approve", "approve; patient=&lt;id&gt;" or "deny".</summary>
    public static (string Decision, string? PatientId) ParseScriptedConsent(string header)
    {
        var parts = header.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var decision = parts.Length > 0 ? parts[0].ToLowerInvariant() : "";
        string? patient = null;
        foreach (var part in parts.Skip(1))
        {
            var eq = part.IndexOf('=');
            if (eq > 0 && part[..eq].Trim().Equals("patient", StringComparison.OrdinalIgnoreCase))
                patient = part[(eq + 1)..].Trim();
        }
        return (decision, patient);
    }

    private static IResult Redirect(string redirectUri, Dictionary<string, string?> query)
    {
        var present = query.Where(kv => kv.Value is not null).Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value));
        return Results.Redirect(QueryHelpers.AddQueryString(redirectUri, present));
    }
}
