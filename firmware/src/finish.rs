//! How a firmware ends its run under QEMU: with its report and a success exit, or with
//! the error's line and a failure exit (semihosting's exit codes reach QEMU's).

use core::fmt::Display;

use cortex_m_semihosting::{debug, hprintln};

/// Prints `report()` after a success, or `error: ...` after a failure, then exits.
pub fn finish<E: Display>(result: Result<(), E>, report: impl FnOnce()) -> ! {
    let code = match result {
        Ok(()) => {
            report();
            debug::EXIT_SUCCESS
        }
        Err(e) => {
            hprintln!("error: {}", e);
            debug::EXIT_FAILURE
        }
    };
    debug::exit(code);
    loop {
        cortex_m::asm::wfi();
    }
}
