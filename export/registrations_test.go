package export_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
	"github.com/insightslab/insights/store"
)

func TestRegistrationsCSV(t *testing.T) {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	err = eng.ImportRegistrations(ctx, clock.Add(-time.Hour), []insights.RegisteredMethods{
		{UserKey: "ada", Methods: []string{"Microsoft Authenticator", "Email"}},
		{UserKey: "=cmd|' /C calc'!A0", Methods: []string{"FIDO2 security key"}},
		{UserKey: "ben", Methods: []string{"@SUM(A1)"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	policy := insights.DefaultMethodPolicy()
	policy.SSPRRequired = 2
	policy.MFAEnabled = func(key string) bool { return key != "ada" }
	rows, err := eng.RegistrationDetails(ctx, insights.RegistrationQuery{Policy: &policy})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	names := map[string]string{"ada": "Ada Lovelace, Countess", "ben": "+ben"}
	if err := export.RegistrationsCSV(&buf, rows, names, nil); err != nil {
		t.Fatal(err)
	}
	want := `userKey,displayName,methods,mfaRegistered,mfaEnabled,mfaCapable,ssprRegistered,ssprEnabled,ssprCapable,passwordlessRegistered,passwordlessEnabled,passwordlessCapable
'=cmd|' /C calc'!A0,,"[""FIDO2 security key""]",true,true,true,false,true,false,true,true,true
ada,"Ada Lovelace, Countess","[""Email"",""Microsoft Authenticator""]",true,false,false,true,true,true,false,true,false
ben,'+ben,"[""@SUM(A1)""]",false,true,false,false,true,false,false,true,false
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	recs := readCSV(t, buf.Bytes())
	if len(recs) != 4 || len(recs[0]) != 12 {
		t.Fatalf("%d records of %d cells", len(recs), len(recs[0]))
	}

	buf.Reset()
	if err := export.RegistrationsCSV(&buf, rows[:1], nil, &export.CSVOptions{Excel: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "\ufeffuserKey,") || strings.Count(buf.String(), "\r\n") != 2 {
		t.Errorf("excel: %q", buf.String())
	}
	buf.Reset()
	if err := export.RegistrationsCSV(&buf, nil, nil, nil); err != nil || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("no rows: %q, %v; want the header", buf.String(), err)
	}
	many := make([]insights.RegistrationDetail, 2000)
	for i := range many {
		many[i] = rows[1]
	}
	if err := export.RegistrationsCSV(&failWriter{n: 100}, many, nil, nil); !errors.Is(err, errDiskFull) {
		t.Errorf("writer error: %v", err)
	}
}
