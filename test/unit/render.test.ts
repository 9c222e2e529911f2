import { renderTemplate } from '../../src/notify/render';

const template = {
  name: 't',
  subject: '{{ person }} leaves\non {{ lastDay }}',
  text: 'Hello {{ manager.name }}, {{ person }} has {{ seats }} seats and {{ missing }} tags {{ tags }}.',
  html: '<p>{{ person }}</p>',
};

test('placeholders are filled from data; absent ones render empty; subjects stay on one line', () => {
  const message = renderTemplate(template, {
    person: 'Ada <script>',
    lastDay: '2026-09-30',
    manager: { name: 'Grace' },
    seats: 3,
    tags: ['a', 'b'],
  });
  expect(message.subject).toBe('Ada <script> leaves on 2026-09-30');
  expect(message.text).toBe('Hello Grace, Ada <script> has 3 seats and  tags a, b.');
  expect(message.html).toBe('<p>Ada &lt;script&gt;</p>');
});
