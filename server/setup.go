package server

import (
	"fmt"
	"time"

	"talker/player"
	"talker/server/store"
)

// The initial setup of a new talker is a list of ordered steps. The name of
// the last step that finished is stored in the database after each one, so
// a setup interrupted in step 3 resumes at step 3 on the next start.
const metaSetupStep = "setup_step"

// setupDone is the recorded step once every step has run.
const setupDone = "done"

type setupStep struct {
	name string
	run  func(*Config, *store.Store) error
}

func setupSteps() []setupStep {
	return []setupStep{
		// The schema itself is created by store.Open; recording it as a step
		// makes the list complete and the log of a first start readable.
		{"schema", func(*Config, *store.Store) error { return nil }},
		{"rooms", createStartingRooms},
		{"text-files", createTextFiles},
		{"first-admin", ensureFirstAdmin},
		{"owner-setup", func(c *Config, st *store.Store) error {
			if c.Setup == nil {
				return nil
			}
			return c.Setup(st)
		}},
	}
}

// RunSetup brings a database through the initial setup, resuming where a
// previous attempt stopped. It is safe to call on every start.
func RunSetup(cfg *Config, st *store.Store) error {
	last, _, err := st.Meta(metaSetupStep)
	if err != nil {
		return fmt.Errorf("read setup progress: %w", err)
	}
	if last == setupDone {
		return nil
	}
	steps := setupSteps()
	start := 0
	if last != "" {
		for i, s := range steps {
			if s.name == last {
				start = i + 1
			}
		}
		cfg.Log.Info().Str("after", last).Msg("resuming initial setup")
	} else {
		cfg.Log.Info().Msg("new database: running initial setup")
	}
	for _, s := range steps[start:] {
		if err := s.run(cfg, st); err != nil {
			return fmt.Errorf("initial setup step %q: %w", s.name, err)
		}
		if err := st.SetMeta(metaSetupStep, s.name); err != nil {
			return fmt.Errorf("record setup step %q: %w", s.name, err)
		}
		cfg.Log.Info().Str("step", s.name).Msg("initial setup step done")
	}
	if err := st.SetMeta(metaSetupStep, setupDone); err != nil {
		return err
	}
	cfg.Log.Info().Msg("initial setup complete")
	return nil
}

// startingRooms is the small world every talker begins with.
var startingRooms = []store.Room{
	{ID: "main", Name: "The Main Room", Exits: []string{"lounge", "garden"},
		Description: "A wide, warm room with comfortable chairs and a crackling fire. " +
			"People drift in and out, chatting. Type 'help' if you are new here."},
	{ID: "lounge", Name: "The Lounge", Exits: []string{"main"},
		Description: "A quiet lounge with deep sofas, soft light and a pot of tea that is never empty."},
	{ID: "garden", Name: "The Garden", Exits: []string{"main"},
		Description: "A walled garden with a lawn, a pond and a bench under an old apple tree."},
}

func createStartingRooms(cfg *Config, st *store.Store) error {
	existing, err := st.Rooms()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range existing {
		have[r.ID] = true
	}
	// Rooms first, exits second: an exit must point at an existing room.
	for pass := 0; pass < 2; pass++ {
		for _, r := range startingRooms {
			if have[r.ID] {
				continue
			}
			room := r
			if pass == 0 {
				room.Exits = nil
			}
			if err := st.SaveRoom(&room); err != nil {
				return err
			}
		}
	}
	return nil
}

func ensureFirstAdmin(cfg *Config, st *store.Store) error {
	n, err := st.CountPlayersWithRank(player.Admin)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if cfg.AskAdmin == nil {
		// Never make whoever connects first an admin. The talker runs
		// without one; the log says how to create one.
		cfg.Log.Warn().Msg("no admin account yet: create one with 'talker account create --name NAME --rank admin' (password on stdin)")
		return nil
	}
	name, pw, err := cfg.AskAdmin()
	if err != nil {
		return fmt.Errorf("ask for the first admin: %w", err)
	}
	_, err = CreateAccount(cfg, st, name, pw, player.Admin)
	return err
}

// CreateAccount validates and stores a new account. It is what `talker
// account create` and the first-admin prompt use.
func CreateAccount(cfg *Config, st *store.Store, name, password string, rank player.Rank) (*player.Player, error) {
	name, err := player.ValidateName(name)
	if err != nil {
		return nil, err
	}
	if err := player.ValidatePassword(password); err != nil {
		return nil, err
	}
	if exists, err := st.PlayerExists(name); err != nil {
		return nil, err
	} else if exists {
		return nil, fmt.Errorf("an account called %s already exists", name)
	}
	hash, err := player.HashPassword(password, cfg.HashCost)
	if err != nil {
		return nil, err
	}
	p := &player.Player{Name: name, PasswordHash: hash, Rank: rank, CreatedAt: time.Now(), Room: cfg.StartRoom}
	if err := st.CreatePlayer(p); err != nil {
		return nil, err
	}
	cfg.Log.Info().Str("player", name).Str("rank", rank.String()).Msg("account created")
	return p, nil
}
