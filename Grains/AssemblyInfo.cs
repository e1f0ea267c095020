namespace PatientConnect.Grains;
