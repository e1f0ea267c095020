namespace PatientConnect.EndToEnd.Tests;
