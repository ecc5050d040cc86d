// The admin pages (#/admin/<section>): ping targets, alert rules, silences (and the configured
// maintenance windows), users and API tokens. Loaded on demand by main.ts; the gateway enforces
// the admin role on every change, and each section shows a clear message when it answers 403.
import './admin.css';
import type { Section } from './admin-common';
import { RulesSection } from './admin-rules';
import { SilencesSection } from './admin-silences';
import { TargetsSection } from './admin-targets';
import { TokensSection, UsersSection } from './admin-users';
import { el } from './dom';
import { adminHref } from './router';

const SECTIONS: ReadonlyArray<{ id: string; title: string; make: () => Section }> = [
  { id: 'targets', title: 'Targets', make: () => new TargetsSection() },
  { id: 'rules', title: 'Rules', make: () => new RulesSection() },
  { id: 'silences', title: 'Silences', make: () => new SilencesSection() },
  { id: 'users', title: 'Users', make: () => new UsersSection() },
  { id: 'tokens', title: 'API tokens', make: () => new TokensSection() },
];

export class AdminView {
  private readonly nav = el('nav', 'adm-nav');
  private readonly heading = el('h1', 'adm-title');
  private readonly content = el('div', 'adm-content');
  private readonly links = new Map<string, HTMLAnchorElement>();
  private section: Section | null = null;
  private sectionId = '';

  constructor(private readonly root: HTMLElement) {
    this.nav.setAttribute('aria-label', 'Admin sections');
    this.nav.dataset['testid'] = 'admin-nav';
    const ul = el('ul');
    for (const s of SECTIONS) {
      const a = el('a', 'adm-nav-link', s.title);
      a.href = adminHref(s.id);
      a.dataset['testid'] = `admin-nav-${s.id}`;
      this.links.set(s.id, a);
      const li = el('li');
      li.append(a);
      ul.append(li);
    }
    this.nav.append(ul);
    this.heading.tabIndex = -1;
    this.content.dataset['testid'] = 'admin-content';
  }

  /** Shows `section` ('targets' | 'rules' | 'silences' | 'users' | 'tokens'; '' = targets). */
  open(section: string): void {
    const def = SECTIONS.find((s) => s.id === section) ?? (section === '' ? SECTIONS[0] : undefined);
    if (this.root.firstChild !== this.heading) {
      this.root.replaceChildren(this.heading, this.nav, this.content);
      this.root.classList.add('adm-page');
    }
    if (!def) {
      this.dispose();
      this.sectionId = '';
      this.heading.textContent = 'Admin';
      const p = el('p', 'adm-notice', `There is no admin section “${section}”. Choose one above.`);
      p.dataset['tone'] = 'error';
      this.content.replaceChildren(p);
      this.markCurrent('');
      return;
    }
    if (def.id === this.sectionId && this.section) return;
    this.dispose();
    this.sectionId = def.id;
    this.heading.textContent = `Admin · ${def.title}`;
    this.root.dataset['section'] = def.id;
    this.markCurrent(def.id);
    const s = def.make();
    s.root.dataset['testid'] = `admin-${def.id}`;
    this.section = s;
    this.content.replaceChildren(s.root);
    window.scrollTo({ top: 0 });
    s.start();
    document.title = `${def.title} · admin · edgemon`;
    // Keyboard and screen-reader users land on the new section's heading (not on a nav click
    // with the mouse, which keeps focus on the link).
    if (!this.nav.contains(document.activeElement)) this.heading.focus({ preventScroll: true });
  }

  close(): void {
    this.dispose();
    this.sectionId = '';
    this.root.classList.remove('adm-page');
    delete this.root.dataset['section'];
    this.root.replaceChildren();
    for (const d of document.querySelectorAll('dialog.adm-dialog')) (d as HTMLDialogElement).close();
  }

  private dispose(): void {
    this.section?.dispose();
    this.section = null;
  }

  private markCurrent(id: string): void {
    for (const [sid, a] of this.links) {
      if (sid === id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }
}
