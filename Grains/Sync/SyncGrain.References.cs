using PatientConnect.Grains.Storage;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// Reference discovery: what a stored page points at (Practitioner, Organization, Medication … and
/// attachments) is queued once per run; <see cref="QueueReferenceStepsAsync"/> (SyncGrain.Plan.cs) turns
/// the queue into steps once the searches are done.
/// </summary>
public sealed partial class SyncGrain
{
    /// <summary>Tallies a stored page and queues what it points at (references, attachments).</summary>
    private void Absorb(FhirPage page)
    {
        var s = S;
        foreach (var row in page.Rows)
        {
            Count(row.ResourceType);
            if (FhirPage.ReferenceTypes.Contains(row.ResourceType)) s.KnownReferences.Add($"{row.ResourceType}/{row.ResourceId}");
        }
        foreach (var reference in page.References)
        {
            if (s.KnownReferences.Add(reference)) s.PendingReferences.Add(reference);
        }
        foreach (var attachment in page.Attachments)
        {
            var relative = FhirUrlPolicy.AttachmentPath(_fhirBase!, attachment.Url);
            if (relative is null)
            {
                if (attachment.Url.Contains("://", StringComparison.Ordinal))
                {
                    Note("DocumentReference: attachments outside the FHIR base were not fetched (the token stays with its source)");
                }
                continue;
            }
            if (!s.KnownReferences.Add(relative)) continue;
            if (_scopes is { } scopes && !scopes.CanRead("Binary"))
            {
                Note("Binary: attachments not fetched, the granted scopes do not include Binary");
                continue;
            }
            s.Steps.Add(new SyncStep
            {
                Kind = SyncStepKind.Binary,
                ResourceType = "Binary",
                Url = relative,
                ContentType = attachment.ContentType,
                OwnerLastUpdated = attachment.OwnerLastUpdated,
            });
        }
    }

    private void Count(string type)
    {
        S.Fetched[type] = S.Fetched.GetValueOrDefault(type) + 1;
        S.ResourcesFetched++;
    }
}
