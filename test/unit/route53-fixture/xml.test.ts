// The fixture's hand-written XML reader/writer.
import { describe, expect, it } from 'vitest';
import { child, childText, childrenNamed, el, opt, parseXml, render, renderDocument } from '../../../fixtures/route53/xml.mjs';

describe('parseXml', () => {
  it('reads what the SDK sends: declaration, namespace, entity-escaped quotes and newlines', () => {
    const doc = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">' +
        '<ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>x.</Name>' +
        '<ResourceRecords><ResourceRecord><Value>&quot;a&#x0A;b&quot; &apos;q&apos; &lt;&amp;&gt; &#233;</Value></ResourceRecord>' +
        '<ResourceRecord><Value>"two"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>' +
        '</ChangeResourceRecordSetsRequest>',
    );
    expect(doc.name).toBe('ChangeResourceRecordSetsRequest');
    expect(doc.attrs.xmlns).toBe('https://route53.amazonaws.com/doc/2013-04-01/');
    const rrs = child(child(childrenNamed(child(child(doc, 'ChangeBatch'), 'Changes'), 'Change')[0], 'ResourceRecordSet'), 'ResourceRecords');
    expect(childrenNamed(rrs, 'ResourceRecord').map((r) => childText(r, 'Value'))).toEqual(['"a\nb" \'q\' <&> é', '"two"']);
    expect(childText(doc, 'Missing')).toBeUndefined();
  });

  it('strips namespace prefixes, keeps CDATA, skips comments', () => {
    const doc = parseXml('<!-- c --><r:Root xmlns:r="urn:x"><r:A><![CDATA[<raw & text>]]></r:A><!-- x --><B/></r:Root>');
    expect(doc.name).toBe('Root');
    expect(doc.qname).toBe('r:Root');
    expect(childText(doc, 'A')).toBe('<raw & text>');
    expect(childText(doc, 'B')).toBe('');
  });

  it('refuses DOCTYPE, unknown entities, mismatched tags and trailing content', () => {
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')).toThrow(/DOCTYPE/);
    expect(() => parseXml('<x>&nbsp;</x>')).toThrow(/unknown entity/);
    expect(() => parseXml('<x><y></x></y>')).toThrow(/mismatched/);
    expect(() => parseXml('<x/><y/>')).toThrow(/after the root/);
    expect(() => parseXml('')).toThrow(/no root/);
  });
});

describe('render', () => {
  it('escapes text but leaves quotes (as AWS writes TXT values), drops undefined children', () => {
    const xml = render(el('R', [el('V', '"a" <b> & c'), opt('Gone', undefined), el('N', 42), el('E', [])], { xmlns: 'urn:"x"' }));
    expect(xml).toBe('<R xmlns="urn:&quot;x&quot;"><V>"a" &lt;b&gt; &amp; c</V><N>42</N><E/></R>');
    expect(renderDocument(el('X', 'y'))).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<X>y</X>');
  });

  it('round-trips through parseXml', () => {
    const value = '"\\"quoted\\"" "\\303\\251" <tag> & \r\n end';
    const back = parseXml(renderDocument(el('Value', value)));
    expect(back.text).toBe(value); // "\r" is written as &#13;, so it survives XML line-end normalization
    expect(parseXml(render(el('Value', 'a\rb'))).text).toBe('a\rb');
  });
});
