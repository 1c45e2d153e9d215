package reboot

// Mode says why a talker stopped or how it started.
type Mode string

// Modes. They are stored durably (the database's stop mode), so the next
// start knows what happened even after a crash.
const (
	ModeCold     Mode = "cold"     // a start with no previous generation
	ModeReboot   Mode = "reboot"   // seamless: new binary, players stay, reload hooks
	ModeReset    Mode = "reset"    // seamless handoff run with the cold hooks
	ModeRestart  Mode = "restart"  // full stop and start: players are disconnected
	ModeShutdown Mode = "shutdown" // deliberate stop
	ModeCrash    Mode = "crash"    // the previous generation died without stopping; its players were lost
	ModeRecover  Mode = "recover"  // a crash from which every connection was kept (panic reboot, or the angel's sockets)
	ModeRunning  Mode = "running"  // stored while a generation runs: found at start, it means a crash
)

// Reload reports whether the mode runs the reload hooks (players were kept
// with their state) rather than the cold ones.
func (m Mode) Reload() bool { return m == ModeReboot || m == ModeRecover }

// Exit codes of the talker process. The angel reads them to tell a stop an
// admin asked for from one it must repair.
const (
	ExitShutdown   = 0  // deliberate shutdown: do not restart
	ExitError      = 1  // failed to start (bad flags, unreadable database): a crash to the angel
	ExitUsage      = 2  // bad command line
	ExitHandedOver = 10 // a new generation took over every connection: follow it
	ExitRestart    = 11 // a full restart was asked for: start a new generation
	ExitConfig     = 78 // configuration broken (EX_CONFIG): restarting will not help
)
