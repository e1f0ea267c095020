using System.Net;
using System.Text;
using System.Text.Json;
using PatientConnect.Grains.Storage;

namespace PatientConnect.Grains.Sync;

/// <summary>What each kind of step does with its answer: a search page, a read, an attachment, or a refusal.</summary>
public sealed partial class SyncGrain
{
    private async Task RunSearchAsync(SyncStep step, CancellationToken token)
    {
        if (FhirUrlPolicy.Resolve(_fhirBase!, step.Url) is not { } url)
        {
            MarkIncomplete(step);
            Skip(step, $"{step.ResourceType}: a link outside the FHIR base was not followed", token);
            return;
        }
        var fetch = GetAsync(url, FhirJsonAccept, Options.MaxAttachmentBytes * 4, step.ResourceType, token);
        while (true)
        {
            var waitStarted = SyncTimings.Now;
            var response = await fetch;
            _timings.FetchWait(waitStarted);
            token.ThrowIfCancellationRequested();
            if (!response.Ok)
            {
                Refused(step, response, token);
                return;
            }
            // Parsing is CPU work: off the grain's turn, so other steps' answers are handled meanwhile.
            var fhirBase = _fhirBase!;
            var page = await Task.Run(() => FhirPage.FromBundle(response.Body!, fhirBase), token);
            Uri? next = null;
            if (page.Next is { } link)
            {
                next = FhirUrlPolicy.Resolve(fhirBase, link);
                if (next is null)
                {
                    Note($"{step.ResourceType}: a next link outside the FHIR base was not followed");
                    MarkIncomplete(step);
                }
            }
            // The next page is on its way while this one is written: the pull is never idle on the database.
            if (next is not null) fetch = GetAsync(next, FhirJsonAccept, Options.MaxAttachmentBytes * 4, step.ResourceType, token);

            step.PagesDone++;
            S.PagesFetched++;
            if (next is null) S.Steps.Remove(step);
            else step.Url = next.AbsoluteUri;
            Absorb(page);
            await Writer.StoreAsync(page.Rows, token);
            if (next is null) return;
        }
    }

    private async Task RunReadAsync(SyncStep step, CancellationToken token)
    {
        if (FhirUrlPolicy.Resolve(_fhirBase!, step.Url) is not { } url)
        {
            // Left by policy (the token stays with its source): asking again would not change it.
            Skip(step, $"{step.ResourceType}: a reference outside the FHIR base was not read", token);
            return;
        }
        var response = await GetAsync(url, FhirJsonAccept, Options.MaxAttachmentBytes * 4, step.ResourceType, token);
        token.ThrowIfCancellationRequested();
        if (!response.Ok)
        {
            Refused(step, response, token);
            return;
        }
        var page = FhirPage.FromResource(response.Body!, _fhirBase!);
        S.PagesFetched++;
        S.Steps.Remove(step);
        Absorb(page);
        await Writer.StoreAsync(page.Rows, token);
    }

    private async Task RunBinaryAsync(SyncStep step, CancellationToken token)
    {
        if (FhirUrlPolicy.Resolve(_fhirBase!, step.Url) is not { } url)
        {
            // Left by policy (the token stays with its source): asking again would not change it.
            Skip(step, "Binary: an attachment outside the FHIR base was not fetched", token);
            return;
        }
        // The attachment's own media type as Accept: EHRs answer it with the document itself.
        var accept = string.IsNullOrWhiteSpace(step.ContentType) ? "*/*" : step.ContentType;
        var response = await GetAsync(url, accept, Options.MaxAttachmentBytes, "Binary", token);
        token.ThrowIfCancellationRequested();
        if (!response.Ok)
        {
            Refused(step, response, token);
            return;
        }
        var id = step.Url.Split('?')[0].Split('/')[^1];
        string json;
        if (response.MediaType is "application/fhir+json" && IsBinaryResource(response.Body!))
        {
            json = Encoding.UTF8.GetString(response.Body!);
        }
        else
        {
            // The attachment's declared type when the source answered with it (it may carry a charset
            // the response header spells differently); otherwise what the source said it sent.
            var declared = step.ContentType;
            var contentType = declared is not null && string.Equals(declared.Split(';')[0].Trim(), response.MediaType, StringComparison.OrdinalIgnoreCase)
                ? declared
                : response.ContentType ?? declared;
            json = FhirPage.BinaryJson(id, contentType, response.Body!);
        }
        S.PagesFetched++;
        S.Steps.Remove(step);
        Count("Binary");
        await Writer.StoreAsync([new RecordRow("Binary", id, step.OwnerLastUpdated, json)], token);
    }

    private static bool IsBinaryResource(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("resourceType", out var type) && type.ValueEquals("Binary");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A 400/403/404 (or an oversized answer) on one step: noted and skipped, the sync goes on.</summary>
    private void Refused(SyncStep step, FhirResponse response, CancellationToken token)
    {
        if (response.Status == HttpStatusCode.BadRequest && step is { ExpandByCategoryOn400: true, PagesDone: 0 })
        {
            // Epic-like servers refuse Observation without category: one search per US Core category.
            var index = S.Steps.IndexOf(step);
            var steps = Options.ObservationCategories.Select(c => new SyncStep
            {
                Kind = SyncStepKind.Search,
                ResourceType = step.ResourceType,
                Url = $"{step.Url}&category={Uri.EscapeDataString(c)}",
            });
            S.Steps.InsertRange(index < 0 ? S.Steps.Count : index + 1, steps);
            // Not a miss: the categories cover what the plain search would have returned.
            Skip(step, $"{step.ResourceType}: the source requires a category ({response.Describe()}); searched per category", token);
            return;
        }
        // An attachment over our size cap is left by policy; asking again would not change the answer.
        if (!response.TooLarge) MarkIncomplete(step);
        var what = step.Kind switch
        {
            SyncStepKind.Search => $"{step.ResourceType} search",
            SyncStepKind.Read => $"{step.ResourceType} read",
            _ => "Binary attachment",
        };
        var detail = response.TooLarge ? $"larger than {Options.MaxAttachmentBytes} bytes" : response.Describe();
        Skip(step, $"{what} skipped: {detail}", token);
    }

    /// <summary>This run missed part of what the step stands for: the next run fetches it whole again.</summary>
    private void MarkIncomplete(SyncStep step) =>
        S.IncompleteTypes.Add(step.Kind == SyncStepKind.Search && SearchTypes.Contains(step.ResourceType) ? step.ResourceType : "*");

    private void Skip(SyncStep step, string note, CancellationToken token)
    {
        S.Steps.Remove(step);
        Note(note);
        Writer.Checkpoint(token);
    }
}
