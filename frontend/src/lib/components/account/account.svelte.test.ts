import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Answer } from '$lib/api/answer';
import type { ActivityEvent, SessionInfo } from '$lib/api/client';
import { Resource } from '$lib/resource.svelte';
import { CURRENT_SESSION } from '$lib/test/fake-api';

vi.mock('$lib/stores/auth', () => ({ api: {}, auth: { logoutEverywhere: vi.fn() } }));

import ActivityList from './ActivityList.svelte';
import SessionList from './SessionList.svelte';

const now = Date.parse('2026-11-29T12:00:00Z');
const current = '10000000-0000-4000-8000-000000000000';
const laptop: SessionInfo = { ...CURRENT_SESSION, id: '2', device: 'Chrome 131 on Windows', current: false };

describe('ActivityList', () => {
	it('reads as a timeline: what, when (as text: relative and absolute), where, and this session', () => {
		render(ActivityList, {
			props: {
				events: [
				{ id: '2', kind: 'signed_in', at: '2026-11-29T11:55:00Z', ip: '203.0.113.7', device: 'Firefox 128 on Linux', session_id: current },
				{ id: '1', kind: 'sign_in_failed', at: '2026-11-28T10:00:00Z', ip: '198.51.100.4' }
				],
				currentSession: current,
				now
			}
		});

		const items = screen.getAllByRole('listitem');
		const text = items.map((li) => li.textContent?.replace(/\s+/g, ' ').trim());
		expect(text[0]).toMatch(/^Signed in 5 minutes ago \(.*2026.*\) · Firefox 128 on Linux · 203\.0\.113\.7 · current session$/);
		expect(text[1]).toMatch(/^Failed sign-in attempt \(worth a look\) yesterday \(.*2026.*\) · 198\.51\.100\.4$/);
		expect(items[0].querySelector('time')?.getAttribute('datetime')).toBe('2026-11-29T11:55:00Z');
		// No tooltip: the absolute time is text.
		expect(items[0].querySelector('[title]')).toBeNull();
	});

	it('says an administrator’s reason, as text', () => {
		render(ActivityList, {
			props: {
				events: [
					{ id: '2', kind: 'account_disabled', at: '2026-11-29T11:00:00Z', reason: 'Spam <b>again</b> & <script>x()</script>' },
					{ id: '1', kind: 'signed_in', at: '2026-11-28T10:00:00Z', reason: null }
				],
				currentSession: null,
				now
			}
		});

		const reasons = screen.getAllByTestId('activity-reason');
		expect(reasons).toHaveLength(1);
		expect(reasons[0].textContent?.trim()).toBe('The administrator’s reason: “Spam <b>again</b> & <script>x()</script>”');
		expect(reasons[0].querySelector('b, script')).toBeNull();
		expect(screen.getAllByRole('listitem')[0].textContent).toContain('Account disabled by an administrator');
	});

	it('shows a kind added to the API later by its name', () => {
		render(ActivityList, {
			props: {
				events: [{ id: '1', kind: 'security_key_lost' as ActivityEvent['kind'], at: '2026-11-29T11:00:00Z' }],
				currentSession: null,
				now
			}
		});
		expect(screen.getByText('Security key lost')).toBeTruthy();
	});
});

describe('a section whose reload fails after it had data', () => {
	it('keeps the list and says it may be out of date, with a way to try again', async () => {
		const answers: Answer<SessionInfo[]>[] = [
			{ ok: true, data: [CURRENT_SESSION, laptop] },
			{ ok: false, failure: { status: 503, message: 'Down for a moment.', fields: [] } },
			{ ok: true, data: [CURRENT_SESSION] }
		];
		const sessions = new Resource(async () => answers.shift()!);
		await sessions.refresh();
		render(SessionList, { sessions, now });
		const region = screen.getByRole('region', { name: "Where you're signed in" });
		expect(within(region).queryByText(/out of date/)).toBeNull();

		await sessions.refresh();

		await vi.waitFor(() => expect(within(region).getByText(/out of date/)).toBeTruthy());
		expect(within(region).getByText(/Down for a moment\./)).toBeTruthy();
		expect(within(region).getAllByTestId('session')).toHaveLength(2);
		await fireEvent.click(within(region).getByRole('button', { name: 'Try again' }));
		await vi.waitFor(() => expect(within(region).getAllByTestId('session')).toHaveLength(1));
		expect(within(region).queryByText(/out of date/)).toBeNull();
	});

	it('without data, says what could not be loaded and offers to try again', async () => {
		const sessions = new Resource<SessionInfo[]>(async () => ({
			ok: false,
			failure: { message: 'Down for a moment.', fields: [] }
		}));
		await sessions.refresh();
		render(SessionList, { sessions, now });
		expect(screen.getByText('Could not load your sessions: Down for a moment.')).toBeTruthy();
		expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
	});
});
