using PatientConnect.EndToEnd.Tests.Infrastructure;

// One running service (sandbox, a silo, the Api) shared by every test class of this assembly;
// tests isolate themselves by patient id. The crash tests start their own two-silo cluster.
[assembly: AssemblyFixture(typeof(ServiceProcesses))]
