// The login page: a plain form (works with the keyboard and password managers), the gateway's
// error message in a role="alert" area, and a countdown while the gateway rate-limits (429).
import { ApiError, login, type Session } from './api';
import { byId, setText } from './dom';

export class LoginView {
  private readonly root = byId('login-view');
  private readonly form = byId<HTMLFormElement>('login-form');
  private readonly user = byId<HTMLInputElement>('login-user');
  private readonly password = byId<HTMLInputElement>('login-password');
  private readonly error = byId('login-error');
  private readonly submit = byId<HTMLButtonElement>('login-submit');
  private busy = false;
  private waitUntil = 0;
  private waitTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly onLogin: (session: Session) => void) {
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.attempt();
    });
  }

  /** Shows the page; `message` (e.g. "Your session has expired") goes into the alert area. */
  show(message = ''): void {
    this.root.hidden = false;
    this.showError(message, false);
    this.busy = false;
    this.renderButton();
    (this.user.value === '' ? this.user : this.password).focus();
  }

  hide(): void {
    this.root.hidden = true;
  }

  private async attempt(): Promise<void> {
    if (this.busy || this.waiting()) return;
    const user = this.user.value.trim();
    const password = this.password.value;
    if (user === '' || password === '') {
      this.showError('Enter your user name and password.');
      (user === '' ? this.user : this.password).focus();
      return;
    }
    this.busy = true;
    this.renderButton();
    try {
      const session = await login(user, password);
      this.password.value = '';
      this.showError('');
      this.busy = false;
      this.renderButton();
      this.onLogin(session);
    } catch (err) {
      this.busy = false;
      let message = err instanceof Error ? err.message : String(err);
      if (err instanceof ApiError && err.status === 429) {
        const wait = err.retryAfterS ?? 60;
        message = `${message.replace(/[.\s]+$/, '')}. Try again in ${wait} s.`;
        this.startWait(wait);
      } else if (err instanceof ApiError && err.status === 0) {
        message = 'Cannot reach the gateway. Check the connection and try again.';
      }
      // Only wrong credentials are about what was typed (not a rate limit or a network error).
      this.showError(message, err instanceof ApiError && (err.status === 401 || err.status === 400));
      this.renderButton();
      this.password.value = '';
      this.password.focus();
    }
  }

  /** `invalid`: the message is about what was typed (marks the inputs for assistive technology). */
  private showError(message: string, invalid = message !== ''): void {
    if (message !== '' && this.error.textContent === message) {
      // The same message again (a second wrong password): clear it first so that the alert is
      // announced again.
      this.error.textContent = '';
      requestAnimationFrame(() => setText(this.error, message));
    } else {
      setText(this.error, message);
    }
    this.user.setAttribute('aria-invalid', String(invalid));
    this.password.setAttribute('aria-invalid', String(invalid));
  }

  private waiting(): boolean {
    return Date.now() < this.waitUntil;
  }

  private startWait(seconds: number): void {
    this.waitUntil = Date.now() + seconds * 1000;
    clearInterval(this.waitTimer);
    this.waitTimer = setInterval(() => {
      if (!this.waiting()) {
        clearInterval(this.waitTimer);
        this.waitTimer = undefined;
      }
      this.renderButton();
    }, 1000);
  }

  private renderButton(): void {
    const waitS = Math.ceil((this.waitUntil - Date.now()) / 1000);
    // aria-disabled instead of disabled: the button stays focusable and keeps its place.
    this.submit.setAttribute('aria-disabled', String(this.busy || waitS > 0));
    setText(this.submit, this.busy ? 'Logging in…' : waitS > 0 ? `Log in (wait ${waitS} s)` : 'Log in');
  }
}
