package state

// GMCP is what a client said over GMCP (telnet option 201) besides agreeing
// to it (version 7): its Core.Hello and its module set from
// Core.Supports.Set/Add/Remove, module names in lower case mapped to their
// versions. A client does not say these again after a reboot (from its
// side nothing changed), so they travel with the telnet state.
type GMCP struct {
	Client  string         `json:"client,omitempty"`
	Version string         `json:"version,omitempty"`
	Modules map[string]int `json:"modules,omitempty"`
}
