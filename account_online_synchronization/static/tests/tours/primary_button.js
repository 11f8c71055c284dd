/** Tour steps checking that a part of the screen highlights one button at most: the next action. */

/**
 * Wait until the only visible primary button in ``scope`` is ``label``, or until ``scope`` has none when
 * ``label`` is empty.
 */
export function onlyPrimary(scope, label = "") {
    if (!label) {
        return {
            content: `No highlighted button in ${scope}`,
            trigger: `${scope}:not(:has(.btn-primary:visible))`,
        };
    }
    return {
        content: `One highlighted button in ${scope}: ${label}`,
        trigger: `${scope}:not(:has(.btn-primary:visible:not(:contains('${label}')))) .btn-primary:visible:contains('${label}')`,
    };
}

/** The buttons of a form's status bar. */
export const STATUSBAR = ".o_form_view .o_form_statusbar .o_statusbar_buttons";
/** The buttons at the bottom of a dialog. */
export const DIALOG_FOOTER = ".modal .modal-footer";
