package insights

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Registration state (SPEC §8): which authentication methods each user has
// registered, from successful registration events (registered, removed)
// and imported snapshots, the latest event by time deciding for each user
// and method. The state is the current one, as of the latest events; it
// survives retention, and Erase removes it.

// regState is the latest successful registration event of one user and
// method: its time (Unix ns) and whether it left the method registered.
type regState struct {
	t          int64
	registered bool
}

// applyRegistration updates uid's state from a successful registration
// event of method code m at Unix time t. The write lock is held.
func (e *Engine) applyRegistration(uid, m uint32, t int64, action string) {
	if e.regs == nil {
		e.regs = map[uint32]map[uint32]regState{}
	}
	ms := e.regs[uid]
	if ms == nil {
		ms = map[uint32]regState{}
		e.regs[uid] = ms
	}
	if old, ok := ms[m]; ok && old.t > t {
		return // a late event older than what decided the state
	}
	ms[m] = regState{t: t, registered: action != ActionRemoved}
}

// RegisteredMethods is one user's registered methods, as a host's
// snapshot lists them for ImportRegistrations.
type RegisteredMethods struct {
	UserKey string   `json:"userKey"`
	Methods []string `json:"methods"`
}

// ImportRegistrations records a snapshot of registered methods as of asOf
// (SPEC §8's initial snapshot): for each user and method, a successful
// registration event with Action ActionSnapshot at asOf, which registration
// counts (Registrations) do not count. Later registration and removal
// events change the state; earlier ones do not. Importing the same
// snapshot twice changes nothing (the events' request ids are derived from
// user and method). A snapshot adds registrations: a method it omits is not
// removed. Errors are those of Add; nothing is applied then.
func (e *Engine) ImportRegistrations(ctx context.Context, asOf time.Time, snapshot []RegisteredMethods) error {
	var evs []Event
	for _, u := range snapshot {
		for _, m := range u.Methods {
			evs = append(evs, Event{Time: asOf, Kind: KindRegistration, UserKey: u.UserKey, Method: m,
				Action: ActionSnapshot, Status: StatusSuccess, RequestID: snapshotRequestID(u.UserKey, m)})
		}
	}
	return e.Add(ctx, evs...)
}

// snapshotRequestID is the request id of a snapshot event: a hash, since
// key and method together may pass the request id's length limit.
func snapshotRequestID(userKey, method string) string {
	h := sha256.Sum256([]byte(userKey + "\x00" + method))
	return "snapshot:" + hex.EncodeToString(h[:16])
}

// MethodPolicy is the host's declared authentication-methods policy: which
// methods it allows for MFA, self-service password reset (SSPR) and
// passwordless sign-in, and which users each is enabled for. Method names
// are compared exactly with the Method of registration events.
type MethodPolicy struct {
	MFA, SSPR, Passwordless []string
	// SSPRRequired is how many allowed methods SSPR needs registered; 0 means 1.
	SSPRRequired int
	// MFAEnabled and SSPREnabled say whether a user is in the scope of the
	// policy; nil means every user. Passwordless is enabled for every user.
	// Called under the engine's read lock: they must not call the engine.
	MFAEnabled, SSPREnabled func(userKey string) bool
}

// DefaultMethodPolicy returns a policy allowing, in Entra's wording, the
// strong methods for MFA, the usual recovery methods for SSPR (one needed)
// and PasswordlessMethods for passwordless, enabled for every user.
func DefaultMethodPolicy() MethodPolicy {
	return MethodPolicy{
		MFA: []string{"Microsoft Authenticator", "Authenticator app", "Text message", "Voice call", "Phone call",
			"OATH verification code", "Hardware OATH token", "Software OATH token", "FIDO2 security key", "Passkey",
			"Windows Hello for Business", "Certificate-based authentication"},
		SSPR: []string{"Email", "Text message", "Voice call", "Phone call", "Microsoft Authenticator",
			"Authenticator app", "Security questions", "OATH verification code"},
		Passwordless: PasswordlessMethods(),
	}
}

// MethodCapability is one user's standing for one purpose under a policy:
// registered (enough allowed methods registered), enabled (in the policy's
// scope), capable (both).
type MethodCapability struct {
	Registered bool `json:"registered"`
	Enabled    bool `json:"enabled"`
	Capable    bool `json:"capable"`
}

// RegistrationDetail is one row of the registration details list.
type RegistrationDetail struct {
	UserKey      string           `json:"userKey"`
	Methods      []string         `json:"methods"` // registered, ascending
	MFA          MethodCapability `json:"mfa"`
	SSPR         MethodCapability `json:"sspr"`
	Passwordless MethodCapability `json:"passwordless"`
}

// detail evaluates methods (ascending) of user key under p.
func (p *MethodPolicy) detail(key string, methods []string) RegistrationDetail {
	count := func(allowed []string) int {
		n := 0
		for _, m := range methods {
			if slices.Contains(allowed, m) {
				n++
			}
		}
		return n
	}
	capability := func(registered bool, enabled func(string) bool) MethodCapability {
		c := MethodCapability{Registered: registered, Enabled: enabled == nil || enabled(key)}
		c.Capable = c.Registered && c.Enabled
		return c
	}
	return RegistrationDetail{UserKey: key, Methods: methods,
		MFA:          capability(count(p.MFA) > 0, p.MFAEnabled),
		SSPR:         capability(count(p.SSPR) >= max(p.SSPRRequired, 1), p.SSPREnabled),
		Passwordless: capability(count(p.Passwordless) > 0, nil),
	}
}

// RegistrationQuery selects rows of the registration details list.
type RegistrationQuery struct {
	// Policy decides the flags; a nil Policy means DefaultMethodPolicy.
	Policy *MethodPolicy
	// UserPrefix keeps users whose key starts with it, case included.
	UserPrefix string
	// UserSearch, when not "", keeps users whose key or display name (as
	// DisplayNames gives it) starts with it, case ignored as
	// LogQuery.UserSearch ignores it: the search box. A user whose key
	// does not match costs a display-name lookup (see DisplayNames).
	UserSearch string
	// Method keeps users who registered it; "" keeps all.
	Method string
	// Filter, when not nil, keeps the rows it returns true for: by flags,
	// say. Called under the engine's read lock: it must not call the engine.
	Filter func(RegistrationDetail) bool
}

// RegistrationDetails returns the registration details list: every user
// with at least one registered method, matching q, by user key. Cost: one
// pass over the users with registration state, and a sort of the rows;
// with a UserSearch, a display-name lookup per user that matches q
// otherwise but not by key.
func (e *Engine) RegistrationDetails(ctx context.Context, q RegistrationQuery) ([]RegistrationDetail, error) {
	p := q.Policy
	if p == nil {
		d := DefaultMethodPolicy()
		p = &d
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if err := e.loadUsers(ctx); err != nil {
		return nil, err
	}
	var out []RegistrationDetail
	for uid, ms := range e.regs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		key := e.userKeys[uid]
		if key == "" || !strings.HasPrefix(key, q.UserPrefix) {
			continue
		}
		var methods []string
		for m, st := range ms {
			if st.registered {
				methods = append(methods, e.dims[DimMethod-1].values[m])
			}
		}
		if len(methods) == 0 || q.Method != "" && !slices.Contains(methods, q.Method) {
			continue
		}
		slices.Sort(methods)
		d := p.detail(key, methods)
		if q.Filter != nil && !q.Filter(d) {
			continue
		}
		if q.UserSearch != "" && !hasPrefixFold(key, q.UserSearch) {
			name, err := e.displayName(ctx, uid)
			if err != nil {
				return nil, err
			}
			if !hasPrefixFold(name, q.UserSearch) {
				continue
			}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b RegistrationDetail) int { return cmp.Compare(a.UserKey, b.UserKey) })
	return out, nil
}

// MethodsSummary counts the users of the registration details list.
type MethodsSummary struct {
	Users        int              `json:"users"` // users with at least one registered method
	MFA          CapabilityCounts `json:"mfa"`
	SSPR         CapabilityCounts `json:"sspr"`
	Passwordless CapabilityCounts `json:"passwordless"`
	ByMethod     map[string]int   `json:"byMethod"` // users per registered method
}

// CapabilityCounts counts users registered, enabled and capable for one purpose.
type CapabilityCounts struct {
	Registered int `json:"registered"`
	Enabled    int `json:"enabled"`
	Capable    int `json:"capable"`
}

func (c *CapabilityCounts) add(m MethodCapability) {
	c.Registered += b2i(m.Registered)
	c.Enabled += b2i(m.Enabled)
	c.Capable += b2i(m.Capable)
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// SummarizeMethods counts the users registered, enabled and capable for
// MFA, SSPR and passwordless under policy (nil: DefaultMethodPolicy), and
// the users per registered method: the tiles of Entra's authentication
// methods report. Only users with a registered method count. Cost: that of
// RegistrationDetails.
func (e *Engine) SummarizeMethods(ctx context.Context, policy *MethodPolicy) (MethodsSummary, error) {
	rows, err := e.RegistrationDetails(ctx, RegistrationQuery{Policy: policy})
	if err != nil {
		return MethodsSummary{}, err
	}
	s := MethodsSummary{Users: len(rows), ByMethod: map[string]int{}}
	for _, r := range rows {
		s.MFA.add(r.MFA)
		s.SSPR.add(r.SSPR)
		s.Passwordless.add(r.Passwordless)
		for _, m := range r.Methods {
			s.ByMethod[m]++
		}
	}
	return s, nil
}
